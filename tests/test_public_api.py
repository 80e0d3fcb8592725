import types

import custseg


def test_all_is_sorted_and_complete():
    assert custseg.__all__ == sorted(custseg.__all__)
    # Submodules appear in dir(custseg) once anything imports them; they are not exports.
    public = {
        n
        for n in dir(custseg)
        if not n.startswith("_") and not isinstance(getattr(custseg, n), types.ModuleType)
    }
    exported = set(custseg.__all__) - {"__version__"}
    assert public - exported == set(), "public names missing from __all__"
    for name in custseg.__all__:
        assert hasattr(custseg, name), name


def test_errors_are_value_errors_where_caused_by_input():
    assert issubclass(custseg.SchemaError, ValueError)
    assert issubclass(custseg.ModelError, ValueError)
    assert issubclass(custseg.DataWarning, UserWarning)
