"""Start LocalStack (S3, SQS and Secrets Manager) in host mode, bound to loopback, with its
objects under a folder of our choosing. Run with the LocalStack environment's interpreter
(``.localstack/bin/python``, built by ``make install``), not the project's: LocalStack
pins versions the project does not use.

    python local/localstack_server.py --port N --data DIR

LocalStack's default (twisted) gateway binds every interface whatever ``GATEWAY_LISTEN``
says, and its S3 provider keeps objects in a fixed folder under /tmp; both are set here
before it starts."""

from __future__ import annotations

import argparse
import functools
import os
import sys

HOST = "127.0.0.1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", required=True, help="folder for S3's objects (emptied)")
    parser.add_argument("--services", default="s3,sqs,secretsmanager")
    args = parser.parse_args()
    os.environ.update(
        {
            "GATEWAY_LISTEN": f"{HOST}:{args.port}",
            "SERVICES": args.services,
            "DNS_ADDRESS": "0",
            "DISABLE_EVENTS": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "S3_SKIP_SIGNATURE_VALIDATION": "0",
            "EAGER_SERVICE_LOADING": "1",  # ready means every service answers
            "LOCALSTACK_HOST": f"{HOST}:{args.port}",
        }
    )

    from twisted.internet import endpoints

    endpoints.TCP4ServerEndpoint = functools.partial(endpoints.TCP4ServerEndpoint, interface=HOST)
    from localstack.services.s3 import provider

    provider.DEFAULT_S3_TMP_DIR = os.path.join(args.data, "s3")
    from localstack.runtime.main import main as localstack_main

    sys.argv = sys.argv[:1]
    localstack_main()


if __name__ == "__main__":
    main()
