"""A local Spark Connect server for the tests, on 127.0.0.1 and `local[2]`.

Started by the Rust test harness (tests/common/spark.rs), never by hand in CI:

    python3 tests/support/spark_server.py LOG_FILE

It finds Spark in the installed `pyspark` package (which ships the server
jar), binds a free port, starts `SparkConnectServer` in a process group of
its own, waits until the port accepts connections, prints one JSON line
{"port", "pid", "token"} on stdout and then waits for its stdin to close: the test
process holds the other end, so when it exits (or dies) the server's whole
process group is killed. The server requires the printed token (Spark's
pre-shared key authentication), as a cluster requires its own. The JVM runs under TZ=Asia/Kolkata, so a statement
that forgot to pin the session time zone to UTC would give other days.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

import pyspark


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    log_path = sys.argv[1]
    spark_home = os.path.dirname(pyspark.__file__)
    port = free_port()
    token = secrets.token_hex(16)
    env = dict(os.environ, SPARK_HOME=spark_home, TZ="Asia/Kolkata",
               SPARK_CONNECT_AUTHENTICATE_TOKEN=token)
    env.pop("PYSPARK_PYTHON", None)
    command = [
        os.path.join(spark_home, "bin", "spark-submit"),
        "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--master", "local[2]",
        "--driver-memory", "1g",
        "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.sql.shuffle.partitions=4",
        "--conf", "spark.driver.extraJavaOptions=-Duser.timezone=Asia/Kolkata",
    ]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            env=env, start_new_session=True,
        )

    def stop(*_):
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    deadline = time.time() + 180
    while True:
        if server.poll() is not None:
            sys.stdout.write(json.dumps({"error": f"the server exited ({server.returncode}); see {log_path}"}) + "\n")
            sys.stdout.flush()
            return
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.time() > deadline:
                sys.stdout.write(json.dumps({"error": f"no answer on port {port} after 180 s; see {log_path}"}) + "\n")
                sys.stdout.flush()
                stop()
            time.sleep(0.2)
    sys.stdout.write(json.dumps({"port": port, "pid": server.pid, "token": token}) + "\n")
    sys.stdout.flush()
    sys.stdin.read()  # returns when the test process closes its end or exits
    stop()


if __name__ == "__main__":
    main()
