"""A local S3-compatible server for the tests: moto's server on 127.0.0.1.

Started by the Rust test harness (tests/common/s3.rs), never by hand in CI:

    python3 tests/support/s3_server.py REQUEST_LOG

It binds a free port, turns on moto's authentication (so that wrong
credentials are refused, as on AWS), creates one IAM user allowed to do
everything, prints one JSON line {"port", "access_key_id",
"secret_access_key"} on stdout and serves until it is killed. Every request
is appended to REQUEST_LOG as one JSON line (method, path, query, Range
header), so tests can check which bytes were fetched.

Buckets named on the command line after REQUEST_LOG are created.

Tests drive the server through `POST /__control` with a JSON body, served
with the user's credentials by boto3 (so that test set-up and checks do not
depend on the client under test):

- {"op": "upload", "bucket", "prefix", "dir"}: every file under the local
  `dir` to `prefix` + its relative path;
- {"op": "download", "bucket", "prefix", "dir"}: the reverse;
- {"op": "list", "bucket", "prefix"}: [{"key", "size"}];
- {"op": "put", "bucket", "key", "text"}: one small object;
- {"op": "delete_prefix", "bucket", "prefix"}: deletes every object under it;
- {"op": "conditional", "mode"}: how conditional writes are served: "" (as
  S3 does), "refuse" (501 NotImplemented, as some S3-compatible stores do) or
  "ignore" (the condition headers are dropped, as old stores do);
- {"op": "multipart_uploads", "bucket"}: keys of the multipart uploads that
  were started and neither completed nor aborted;
- {"op": "fail_parts", "n"}: the next n uploads of a multipart part are
  answered with 500 InternalError;
- {"op": "die_after_puts", "bucket", "n", "match"?}: fault injection: the
  server closes its listening socket right after the n-th following PUT into
  `bucket` (only PUTs whose path or query contains `match`, when given) (clients then get "connection refused", as from a dead server);
  SIGUSR1 brings it back on the same port with its data, like a store
  that recovers.

- {"op": "hold", "method", "match"}: the next request with this method whose
  path or query contains `match` waits, before the server looks at it, until
  {"op": "release"} (a slow request, as from a congested network: its
  conditions are checked when it is released);
- {"op": "held"}: {"held": true} while a held request waits.

Conditional writes (`If-None-Match`, `If-Match`) and deletes are served one
at a time, so that their check and write are atomic as on S3.
"""

import json
import os
import signal
import sys
import threading
import time

# Authentication is enforced after this many unauthenticated requests: the
# ones this script makes to create the user below.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

import boto3  # noqa: E402  (installed with moto)
from moto.server import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402
from urllib.parse import quote, unquote  # noqa: E402

import moto.iam.access_control as access_control  # noqa: E402


def _canonical_query_path(path: str) -> str:
    """`/bucket/key?k=v&...` URI-encoded as SigV4 for S3 does.

    moto checks signatures against a path and query string that werkzeug has
    already percent-decoded (`prefix=a/b/` instead of `prefix=a%2Fb%2F`,
    `as_of=...` instead of `as_of%3D...`), so every request with such a
    character would fail with SignatureDoesNotMatch although it is signed
    correctly. Re-encoding restores the canonical form; the signature is
    still checked.
    """
    base, sep, query = path.partition("?")
    base = quote(unquote(base), safe="/-_.~")
    if not sep:
        return base
    parts = []
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        parts.append(
            quote(unquote(key), safe="-_.~") + eq + quote(unquote(value), safe="-_.~")
        )
    return base + "?" + "&".join(parts)


_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _create_canonical_aws_request(self):
    self._path = _canonical_query_path(self._path)
    return _create_aws_request(self)


access_control.IAMRequestBase._create_aws_request = _create_canonical_aws_request

# A request whose condition headers this server dropped ("ignore" mode) no
# longer matches its signature; it is let through unchecked, like the old
# stores that never looked at those headers.
_unsigned = threading.local()
_check_signature = access_control.IAMRequestBase.check_signature


def _check_signature_unless_dropped(self):
    if getattr(_unsigned, "skip", False):
        return
    return _check_signature(self)


access_control.IAMRequestBase.check_signature = _check_signature_unless_dropped


def main() -> None:
    log_path = sys.argv[1] if len(sys.argv) > 1 else os.devnull
    log = open(log_path, "a", buffering=1)
    app = DomainDispatcherApplication(create_backend_app)
    hold = {"method": None, "match": None, "waiting": False, "go": threading.Event()}
    state = {"bucket": None, "puts": 0, "match": "", "conditional": "", "fail_parts": 0, "server": None, "port": 0, "dead": False}
    lock = threading.Lock()
    atomic = threading.Lock()

    def serve(port):
        server = make_server("127.0.0.1", port, logged, threaded=True)
        state["server"] = server
        state["port"] = server.server_port
        state["dead"] = False
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def die():
        state["dead"] = True
        server = state["server"]
        server.shutdown()
        server.server_close()

    def logged(environ, start_response):
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO") or ""
        if path == "/__control":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            request = json.loads(environ["wsgi.input"].read(length) or b"{}")
            try:
                body = json.dumps(control(request)).encode()
                status = "200 OK"
            except Exception as e:  # reported to the test, which fails
                body = json.dumps({"error": repr(e)}).encode()
                status = "500 Internal Server Error"
            start_response(
                status,
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if state["dead"]:
            # A kept-alive connection of a "dead" server: answer nothing useful
            # and close it; new connections are refused.
            start_response("503 Service Unavailable", [("Connection", "close")])
            return [b""]
        log.write(
            json.dumps(
                {
                    "method": environ.get("REQUEST_METHOD"),
                    "path": environ.get("PATH_INFO"),
                    "query": environ.get("QUERY_STRING"),
                    "range": environ.get("HTTP_RANGE"),
                }
            )
            + "\n"
        )
        target = path + "?" + (environ.get("QUERY_STRING") or "")
        with lock:
            holding = hold["method"] == method and hold["match"] in target
            if holding:
                hold["method"], hold["waiting"] = None, True
        if holding:
            hold["go"].wait()
            with lock:
                hold["waiting"] = False
        if method == "PUT" and "partNumber=" in (environ.get("QUERY_STRING") or ""):
            with lock:
                failing = state["fail_parts"] > 0
                state["fail_parts"] -= failing
            if failing:
                start_response("500 Internal Server Error", [("Content-Type", "application/xml")])
                return [
                    b"<Error><Code>InternalError</Code>"
                    b"<Message>injected part failure</Message></Error>"
                ]
        conditional = environ.get("HTTP_IF_NONE_MATCH") or environ.get("HTTP_IF_MATCH")
        if method == "PUT" and conditional and state["conditional"] == "refuse":
            start_response("501 Not Implemented", [("Content-Type", "application/xml")])
            return [
                b"<Error><Code>NotImplemented</Code><Message>A header you provided implies "
                b"functionality that is not implemented</Message></Error>"
            ]
        _unsigned.skip = False
        if method == "PUT" and conditional and state["conditional"] == "ignore":
            environ.pop("HTTP_IF_NONE_MATCH", None)
            environ.pop("HTTP_IF_MATCH", None)
            _unsigned.skip = True
        if (method == "PUT" and conditional) or method == "DELETE":
            # S3 checks a condition and writes in one atomic step; moto checks,
            # then writes. One request at a time restores the atomicity that
            # the partition lease relies on.
            with atomic:
                response = list(app(environ, start_response))
        else:
            response = app(environ, start_response)
        bucket = state["bucket"]
        counted = state["match"] in path + "?" + (environ.get("QUERY_STRING") or "")
        if bucket and method == "PUT" and path.startswith(f"/{bucket}/") and counted:
            with lock:
                state["puts"] -= 1
                dying = state["puts"] == 0
                if dying:
                    state["bucket"] = None
            if dying:
                response = list(response)
                threading.Thread(target=die, daemon=True).start()
        return response

    def client():
        return boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{state['port']}",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name="us-east-1",
        )

    def control(request):
        op = request["op"]
        if op == "fail_parts":
            with lock:
                state["fail_parts"] = int(request["n"])
            return {"armed": True}
        if op == "hold":
            with lock:
                hold["go"].clear()
                hold["method"], hold["match"] = request["method"], request["match"]
            return {"armed": True}
        if op == "release":
            hold["go"].set()
            return {"released": True}
        if op == "held":
            with lock:
                return {"held": hold["waiting"]}
        if op == "conditional":
            state["conditional"] = request["mode"]
            return {"mode": request["mode"]}
        if op == "die_after_puts":
            with lock:
                state["bucket"] = request["bucket"]
                state["puts"] = int(request["n"])
                state["match"] = request.get("match", "")
            return {"armed": True}
        s3 = client()
        bucket = request["bucket"]
        if op == "put":
            s3.put_object(Bucket=bucket, Key=request["key"], Body=request["text"].encode())
            return {}
        if op == "delete_prefix":
            listed = s3.list_objects_v2(Bucket=bucket, Prefix=request["prefix"])
            for item in listed.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])
            return {}
        if op == "multipart_uploads":
            listed = s3.list_multipart_uploads(Bucket=bucket)
            return [u["Key"] for u in listed.get("Uploads", [])]
        prefix = request.get("prefix", "")
        if op == "upload":
            root = request["dir"]
            keys = []
            for folder, _, names in os.walk(root):
                for name in sorted(names):
                    local = os.path.join(folder, name)
                    rel = os.path.relpath(local, root).replace(os.sep, "/")
                    s3.upload_file(local, bucket, prefix + rel)
                    keys.append(prefix + rel)
            return {"keys": keys}
        objects = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            objects += [{"key": o["Key"], "size": o["Size"]} for o in page.get("Contents", [])]
        if op == "list":
            return objects
        if op == "download":
            for o in objects:
                local = os.path.join(request["dir"], o["key"][len(prefix):])
                os.makedirs(os.path.dirname(local), exist_ok=True)
                s3.download_file(bucket, o["key"], local)
            return objects
        raise ValueError(f"unknown op {op}")

    serve(0)
    port = state["port"]
    signal.signal(signal.SIGUSR1, lambda *_: serve(port))

    iam = boto3.client(
        "iam",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
        region_name="us-east-1",
    )
    iam.create_user(UserName="cohort-metrics-test")
    iam.put_user_policy(
        UserName="cohort-metrics-test",
        PolicyName="all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="cohort-metrics-test")["AccessKey"]
    for bucket in sys.argv[2:]:
        client().create_bucket(Bucket=bucket)
    print(
        json.dumps(
            {
                "port": port,
                "access_key_id": key["AccessKeyId"],
                "secret_access_key": key["SecretAccessKey"],
            }
        ),
        flush=True,
    )
    while True:
        time.sleep(0.2)


if __name__ == "__main__":
    main()
