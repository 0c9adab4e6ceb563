"""The local stack: gateway, embedded backends and the upload-queue poller."""
