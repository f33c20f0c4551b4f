"""A loopback HTTP proxy in front of moto that answers some requests itself, with the error
responses AWS really sends (per service protocol), to test natcost's fault handling.

    python fault_proxy.py UPSTREAM_PORT [--fail-every N] [--deny SERVICE:REGION ...]
                          [--deny-assume ACCOUNT ...] [--latency-ms MS]

--fail-every N   every Nth request gets a throttling or server error (alternately); never a
                 retry of an operation already failed once (by its amz-sdk-invocation-id), so
                 that however requests interleave, one retry always succeeds
--deny S:R       every request to service S (SigV4 name: ec2, lambda, monitoring, tagging, ecs, sts, s3) in
                 region R is refused as AWS refuses an unauthorised caller
--deny-assume A  sts:AssumeRole into a role of account A is refused, as AWS refuses a role
                 that does not exist or does not trust the caller
--deny-bucket B  every S3 request to bucket B is refused (AccessDenied)
--deny-get B     GetObject in bucket B is refused (AccessDenied); listing works
--deny-action A  every request for IAM action A (e.g. cloudwatch:ListMetrics) is refused
--break S:R      every request to service S in region R gets a server error (500), so that the
                 SDK's retries run out
--latency-ms MS  every request waits MS milliseconds before it is forwarded
Prints "READY <port>" once listening on 127.0.0.1. GET /__proxy_stats answers
{"requests": N, "injected": K, "actions": {"ec2:DescribeVpcs": n, ...},
 "by_key": {ACCESS_KEY_ID: {action: n}}, "external_ids": [ExternalId of each AssumeRole],
 "ce_requests": [the JSON body of each Cost Explorer request]} itself: a test can check that faults really happened
and which IAM actions were called, with whose credentials.
"""
import json
import http.client
import re
import sys
import threading
import time
from urllib.parse import parse_qs
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

upstream = int(sys.argv[1])
fail_every = 0
deny = set()
deny_assume = set()
deny_bucket = set()
deny_get = set()
deny_action = set()
broken = set()
latency = 0.0
args = sys.argv[2:]
while args:
    flag, value, args = args[0], args[1], args[2:]
    if flag == "--fail-every":
        fail_every = int(value)
    elif flag == "--deny-bucket":
        deny_bucket.add(value)
    elif flag == "--deny-get":
        deny_get.add(value)
    elif flag == "--deny":
        deny.add(value)
    elif flag == "--deny-action":
        deny_action.add(value)
    elif flag == "--deny-assume":
        deny_assume.add(value)
    elif flag == "--break":
        broken.add(value)
    elif flag == "--latency-ms":
        latency = int(value) / 1000
lock = threading.Lock()
count = 0
injected = 0
actions = {}
by_key = {}
external_ids = []
ce_requests = []
failed_operations = set()
# SigV4 signing name -> IAM service prefix, where they differ.
IAM_PREFIX = {"monitoring": "cloudwatch", "tagging": "tag"}


def action_of(service, method, path, headers, body):
    """The IAM action of a request, as service:Action."""
    target = headers.get("X-Amz-Target")
    if target:
        name = target.split(".")[-1]
    elif service == "lambda":
        name = "ListFunctions" if method == "GET" and re.match(r"^/2015-03-31/functions/?(\?|$)", path) else f"{method} {path}"
    elif service == "s3":
        # Path-style REST: GET /bucket?list-type=2... lists (s3:ListBucket), GET /bucket/key reads.
        bucket_only = re.match(r"^/[^/?]+/?(\?|$)", path)
        if method == "GET" and bucket_only and "list-type=2" in path:
            name = "ListBucket"
        elif method == "GET" and not bucket_only:
            name = "GetObject"
        else:
            name = f"{method} {path}"
    else:
        form = parse_qs(body.decode("utf-8", "replace")) if body else {}
        name = form.get("Action", ["?"])[0]
    return f"{IAM_PREFIX.get(service, service)}:{name}"

QUERY_ERROR = '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>f00d</RequestId></ErrorResponse>'
EC2_ERROR = '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error></Errors><RequestID>f00d</RequestID></Response>'

S3_ERROR = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{msg}</Message><RequestId>f00d</RequestId></Error>'


def error(service, kind):
    """(status, headers, body) of a real AWS error of this kind for this service."""
    if service == "lambda":
        status, code, msg = {
            "throttle": (429, "TooManyRequestsException", "Rate exceeded"),
            "server": (500, "ServiceException", "An internal error occurred"),
            "deny": (403, "AccessDeniedException", "User is not authorized to perform: lambda:ListFunctions"),
        }[kind]
        body = '{"Type":"User","Message":"%s"}' % msg
        return status, {"x-amzn-ErrorType": code, "Content-Type": "application/json"}, body
    if service == "ec2":
        status, code, msg = {
            "throttle": (503, "RequestLimitExceeded", "Request limit exceeded."),
            "server": (500, "InternalError", "An internal error has occurred"),
            "deny": (403, "UnauthorizedOperation", "You are not authorized to perform this operation."),
        }[kind]
        return status, {"Content-Type": "text/xml"}, EC2_ERROR.format(code=code, msg=msg)
    if service in ("ce", "logs", "athena", "tagging", "ecs"):
        # awsJson1.1 services: the error type in the body and a header (the Resource Groups
        # Tagging API names its own throttling and server errors).
        tagging = service == "tagging"
        status, code, msg = {
            "throttle": (400, "ThrottledException" if tagging else "ThrottlingException", "Rate exceeded"),
            "server": (500, "InternalServiceException" if tagging else "InternalServerException", "An internal error occurred"),
            "deny": (400, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/natcost is not authorized to perform this action"),
        }[kind]
        body = json.dumps({"__type": code, "message": msg})
        return status, {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.1"}, body
    if service == "s3":
        status, code, msg = {
            "throttle": (503, "SlowDown", "Please reduce your request rate."),
            "server": (500, "InternalError", "We encountered an internal error. Please try again."),
            "deny": (403, "AccessDenied", "Access Denied"),
        }[kind]
        return status, {"Content-Type": "application/xml"}, S3_ERROR.format(code=code, msg=msg)
    status, code, msg = {
        "throttle": (400, "Throttling", "Rate exceeded"),
        "server": (500, "InternalFailure", "An internal error occurred"),
        "deny": (403, "AccessDenied", "User is not authorized to perform this action"),
    }[kind]
    return status, {"Content-Type": "text/xml"}, QUERY_ERROR.format(code=code, msg=msg)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, headers, body):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def forward(self):
        global count, injected
        if self.path == "/__proxy_stats":
            with lock:
                stats = {"requests": count, "injected": injected, "actions": actions, "by_key": by_key, "external_ids": external_ids, "ce_requests": ce_requests}
                text = json.dumps(stats)
            return self.reply(200, {"Content-Type": "application/json"}, text)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        scope = re.search(r"Credential=([^/]+)/\d+/([^/]+)/([^/]+)/", self.headers.get("Authorization", ""))
        key, region, service = scope.groups() if scope else ("", "", "")
        action = action_of(service, self.command, self.path, self.headers, body)
        with lock:
            count += 1
            n = count
            actions[action] = actions.get(action, 0) + 1
            mine = by_key.setdefault(key, {})
            mine[action] = mine.get(action, 0) + 1
        if latency:
            time.sleep(latency)
        if service == "ce":
            with lock:
                ce_requests.append(json.loads(body or b"{}"))
        if action == "sts:AssumeRole":
            form = parse_qs(body.decode())
            with lock:
                external_ids.append(form.get("ExternalId", [None])[0])
            arn = form.get("RoleArn", [""])[0]
            if arn.split(":")[4:5] and arn.split(":")[4] in deny_assume:
                with lock:
                    injected += 1
                msg = f"User: arn:aws:iam::123456789012:user/natcost is not authorized to perform: sts:AssumeRole on resource: {arn}"
                return self.reply(403, {"Content-Type": "text/xml"}, QUERY_ERROR.format(code="AccessDenied", msg=msg))
        if f"{service}:{region}" in broken:
            with lock:
                injected += 1
            return self.reply(*error(service, "server"))
        bucket = self.path.lstrip("/").split("/")[0].split("?")[0]
        if service == "s3" and (bucket in deny_bucket or (bucket in deny_get and action == "s3:GetObject")):
            with lock:
                injected += 1
            return self.reply(*error(service, "deny"))
        if f"{service}:{region}" in deny or action in deny_action:
            with lock:
                injected += 1
            return self.reply(*error(service, "deny"))
        operation = self.headers.get("amz-sdk-invocation-id") or (self.command, self.path, body)
        if fail_every and n % fail_every == 0:
            with lock:
                again = operation in failed_operations
                failed_operations.add(operation)
                if not again:
                    injected += 1
            if not again:
                return self.reply(*error(service, "throttle" if (n // fail_every) % 2 else "server"))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "content-length")}
        # One upstream connection per client connection, kept alive, reopened when moto drops it.
        for attempt in (0, 1):
            conn = getattr(self, "upstream_conn", None)
            if conn is None:
                conn = self.upstream_conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=60)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                self.upstream_conn = None
                if attempt:
                    raise
        skip = ("connection", "content-length", "transfer-encoding", "server", "date")
        self.reply(resp.status, {k: v for k, v in resp.getheaders() if k.lower() not in skip}, data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward


class Server(ThreadingHTTPServer):
    # natcost opens many connections at once (one per collection in flight): the default
    # backlog of 5 drops their SYNs, and TCP retries them a second or more later.
    request_queue_size = 1024
    daemon_threads = True


server = Server(("127.0.0.1", 0), Handler)
print(f"READY {server.server_address[1]}", flush=True)
server.serve_forever()
