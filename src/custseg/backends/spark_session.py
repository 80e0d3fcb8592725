"""Start (or reuse) a SparkSession, or fail with one clear line.

Spark needs three things custseg cannot assume: the ``pyspark`` package (the
``custseg[spark]`` extra), a Java runtime (17 or newer for Spark 4), and a master
URL it can reach. Each is checked before the JVM starts, so the user reads
"Java was not found ..." rather than a page of Py4J traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from custseg.errors import EngineError

__all__ = ["check_master", "find_java", "spark_session", "stop_session"]

_MASTER = re.compile(
    r"^(local(\[(\*|\d+)(,\d+)?\])?|local-cluster\[\d+,\d+,\d+\]|yarn|"
    r"spark://[^\s/:]+(:\d+)?(,[^\s/:]+(:\d+)?)*|k8s://\S+|mesos://\S+)$"
)
INSTALL_SPARK = "pip install 'custseg[spark]'"


def check_master(master: str) -> str:
    """Validate a Spark master URL's form.

    Raises
    ------
    EngineError
        Not one of ``local``, ``local[N]``, ``local[*]``, ``spark://host:port``,
        ``yarn``, ``k8s://...``, ``mesos://...``.
    """
    if not _MASTER.match(master.strip()):
        raise EngineError(
            f"bad Spark master URL {master!r}; use local[*], local[N], spark://HOST:7077, "
            "yarn or k8s://https://HOST:PORT"
        )
    return master.strip()


def find_java() -> Path:
    """The ``java`` executable Spark will start: ``$JAVA_HOME/bin/java``, else on PATH.

    Raises
    ------
    EngineError
        JAVA_HOME points nowhere, or no java is installed.
    """
    home = os.environ.get("JAVA_HOME")
    if home:
        java = Path(home) / "bin" / "java"
        if not java.exists():
            raise EngineError(
                f"JAVA_HOME is '{home}' but {java} does not exist; point JAVA_HOME at a Java "
                "17+ installation (e.g. /usr/lib/jvm/java-17-openjdk-amd64) or unset it"
            )
        return java
    found = shutil.which("java")
    if not found:
        raise EngineError(
            "Java was not found (no JAVA_HOME, no java on PATH); Spark needs Java 17+: "
            "install openjdk-17-jre-headless or set JAVA_HOME"
        )
    return Path(found)


def spark_session(master: str | None = None, *, app_name: str = "custseg") -> Any:
    """A SparkSession on ``master`` (default: ``local[*]``, or the active session).

    When a session is already active (inside ``spark-submit``, a notebook or a
    test), it is reused and ``master`` must agree with it or be None.

    Raises
    ------
    EngineError
        pyspark missing, Java missing, bad master URL, or the JVM failed to start.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError(
            f"--engine spark needs pyspark; install it with {INSTALL_SPARK}"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None and (master is None or active.sparkContext.master == master):
        return active
    master = check_master(master or "local[*]")
    find_java()
    local = master.startswith("local")
    if local:
        # Local Python workers must run this interpreter (with custseg, pandas, pyarrow),
        # not whatever "python3" is first on PATH. On a cluster, PYSPARK_PYTHON decides.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "ERROR")  # custseg reports; Spark's INFO/WARN would drown it
        .config("spark.sql.shuffle.partitions", "8")
        # custseg checks numbers itself; ANSI casts would throw on the first bad cell.
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if local:
        # In local mode the driver talks to itself: loopback, not the machine's network
        # address (which may not answer, stalling heartbeats and shutdown).
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    try:
        return builder.getOrCreate()
    except Exception as exc:  # Py4J and the JVM launcher raise several unrelated types
        detail = " ".join(str(exc).split())[:300]
        raise EngineError(
            f"could not start Spark on master {master!r}: {detail}; check the master URL and "
            "that Java 17+ works (java -version)"
        ) from None


def stop_session() -> None:
    """Stop the active SparkSession, if any (the CLI does this before exiting)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return
    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
