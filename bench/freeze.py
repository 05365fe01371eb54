"""Freezing a dataset version as a job: the request that starts it, and the job itself, at 10,000 images.

    python bench/freeze.py [--images 10000] [--annotations 30000] [--requests 5]

The data is made as bench/export.py makes it (the shared magnetic-tile set imported for real, then its final
images and their annotations repeated as rows up to the counts); see that file.

What is timed:
- freeze_request_ms: `POST /api/v1/projects/{id}/versions/` through Django's test client in this process (no
  network, no gunicorn), after one untimed request: the checks, the job row, the commit and the message to
  the broker (the embedded filesystem broker; nothing consumes it). The median of --requests requests, each
  for a new name.
- freeze_job_s: the freeze job run in this process by `job_run`, as a worker runs it (with its progress
  reports and its second connection for them).

Last line: {"images": N, "annotations": N, "freeze_request_ms": X, "freeze_job_s": X}
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--annotations", type=int, default=30_000)
    parser.add_argument("--requests", type=int, default=5)
    arguments = parser.parse_args()

    from bench._setup import SHARED_DATA, django_for_benchmark

    vendor = django_for_benchmark(database="postgres")
    from django.contrib.auth import get_user_model
    from django.test import Client

    from annotation.models import Membership, Role
    from bench.export import replicate
    from datasets.demo import demo_project_seed
    from datasets.models import DatasetVersion
    from datasets.services.imports import images_import
    from datasets.sources import folder_entries, plan_sources
    from defectlab.jobs.models import JobStatus
    from defectlab.jobs.services import job_run

    project, _ = demo_project_seed()
    sources, _ = plan_sources(folder_entries(SHARED_DATA), with_masks=True)
    images_import(project=project, sources=sources)
    image_count, annotation_count = replicate(project, images=arguments.images, annotations=arguments.annotations)
    engineer = get_user_model().objects.create_user(username="bench-ml-engineer")
    Membership.objects.create(project=project, user=engineer, role=Role.ML_ENGINEER)
    client = Client(HTTP_HOST="localhost")  # an allowed host of the default settings
    client.force_login(engineer)
    url = f"/api/v1/projects/{project.pk}/versions/"
    client.get(url)  # not timed: the first request of a process pays for imports and URL resolution

    request_seconds, job_ids = [], []
    for number in range(arguments.requests):
        started = time.perf_counter()
        response = client.post(url, {"name": f"bench-{number}"}, content_type="application/json")
        request_seconds.append(time.perf_counter() - started)
        if response.status_code != 202:
            raise SystemExit(f"the freeze request answered {response.status_code}: {response.content[:300]!r}")
        job_ids.append(response.json()["id"])

    started = time.perf_counter()
    job = job_run(job_id=job_ids[0])
    job_seconds = time.perf_counter() - started
    if job.status != JobStatus.SUCCEEDED:
        raise SystemExit(f"the freeze job ended {job.status}: {job.error}")
    version = DatasetVersion.objects.get(pk=job.result["version_id"])
    print(
        f"database={vendor} final images={image_count} annotations={annotation_count} "
        f"manifest={version.manifest_size_bytes / 1e6:.1f} MB "
        f"requests_ms={[round(1000 * seconds, 1) for seconds in request_seconds]}"
    )
    print(
        json.dumps(
            {
                "images": version.counts["images"]["total"],
                "annotations": version.counts["annotations"]["total"],
                "freeze_request_ms": round(1000 * statistics.median(request_seconds), 1),
                "freeze_job_s": round(job_seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
