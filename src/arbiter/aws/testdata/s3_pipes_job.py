"""Pipes-over-S3 round-trip job for s3_pipes_test.cc.

  s3_pipes_job.py DEFERRED_FILE
      Runs under pipes with the S3 channel: messages go through arbiter_pipes' S3 chunk
      writer (boto3) as three chunks of four log lines; the final chunk (a materialization
      and "closed") is saved to DEFERRED_FILE instead of uploaded, so the test can upload it
      after this process has ended, as a slow upload on a remote cluster would land.
  s3_pipes_job.py --upload-deferred DEFERRED_FILE ENDPOINT
      Uploads that saved chunk.
"""

import json
import os
import sys

sys.path.insert(0, os.environ["ARBITER_PYTHON_CLIENT_DIR"])
import arbiter_pipes as ap  # noqa: E402


def upload_deferred(path, endpoint):
    with open(path) as f:
        chunk = json.load(f)
    client = ap._s3_client({"arbiter_s3_endpoint_url": endpoint, "arbiter_s3_path_style": True,
                            "arbiter_s3_region": "us-east-1"})
    key = "%s/%d.json" % (chunk["key_prefix"], chunk["index"])
    client.put_object(Bucket=chunk["bucket"], Key=key, Body=chunk["body"].encode("utf-8"))


def run_job(deferred_path):
    original_close, original_upload = ap._S3ChunkWriter.close, ap._S3ChunkWriter.upload

    def close(self):
        self._defer = True
        original_close(self)

    def upload(self, index, body):
        if getattr(self, "_defer", False):
            with open(deferred_path, "w") as f:
                json.dump({"index": index, "key_prefix": self._prefix, "bucket": self._bucket,
                           "body": body}, f)
            return
        original_upload(self, index, body)

    ap._S3ChunkWriter.close, ap._S3ChunkWriter.upload = close, upload
    # A long interval: chunks are cut explicitly below, so their contents are deterministic.
    with ap.open_pipes(chunk_interval=3600) as pipes:
        for chunk in range(3):
            for i in range(4):
                pipes.log.info("chunk %d message %d" % (chunk, i))
            pipes._writer._flush()
        pipes.report_asset_materialization(metadata={"rows": 12},
                                           data_version=pipes.partition_key)


if __name__ == "__main__":
    if sys.argv[1] == "--upload-deferred":
        upload_deferred(sys.argv[2], sys.argv[3])
    else:
        run_job(sys.argv[1])
