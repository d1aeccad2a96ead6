"""How the emulators run a submitted PySpark job on real Apache Spark (local mode).

The spark-submit of the interpreter's own environment comes first: the emulators run on
the project virtualenv (.venv, scripts/setup.sh), whose pinned pyspark ships Spark itself,
and that environment's bin/ is usually not on PATH. Then spark-submit on PATH. None means
the job runs under plain Python instead (the documented fallback for machines without
Spark), and the emulator logs which it chose.
"""
import os
import shutil
import sys


def find_spark_submit():
    beside = os.path.join(os.path.dirname(sys.executable), "spark-submit")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("spark-submit")


# Spark defaults for short local-mode runs (C1 JIT, serial GC, no UI): see the file.
LOCAL_CONF_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "spark-conf")


def spark_env(env):
    """The job's environment for spark-submit: the driver and executors use this
    interpreter (it has the job's libraries), unless the submitter chose one; Spark reads
    tools/spark-conf/spark-defaults.conf unless the environment names another conf dir."""
    env = dict(env)
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    env.setdefault("PYSPARK_DRIVER_PYTHON", env["PYSPARK_PYTHON"])
    env.setdefault("SPARK_CONF_DIR", os.environ.get("SPARK_CONF_DIR", LOCAL_CONF_DIR))
    return env
