"""Where a segmentation runs: in memory, on a large table, in chunks, or on Apache Spark."""
