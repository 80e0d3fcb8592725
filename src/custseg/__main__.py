"""``python -m custseg`` runs the command line."""

from custseg.cli import main

if __name__ == "__main__":
    main()
