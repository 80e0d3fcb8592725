"""Apache Spark support: a checked SparkSession and the feature arithmetic on Spark.

Everything here imports pyspark lazily, so ``import custseg`` works without the
optional ``custseg[spark]`` extra; a missing pyspark or Java becomes an
:class:`~custseg.errors.EngineError` with the fix in one line.
"""

from custseg.spark.session import check_master, find_java, spark_session, stop_session

__all__ = ["check_master", "find_java", "spark_session", "stop_session"]
