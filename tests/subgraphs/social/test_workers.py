"""The worker process (`dramatiq subgraphs.social.workers`) puts social's handlers on the broker
its settings name: the Redis broker with the AsyncIO middleware the async handlers need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.testing import redis_url

ROOT = Path(__file__).resolve().parents[3]
PROBE = """
import json, dramatiq
import subgraphs.social.workers
broker = dramatiq.get_broker()
print(json.dumps({"broker": type(broker).__name__,
                  "middleware": [type(m).__name__ for m in broker.middleware],
                  "actors": sorted(a for a in broker.actors if a.startswith("social."))}))
"""


@pytest.mark.redis
def test_worker_module_declares_its_handlers_on_the_configured_redis_broker(tmp_path: Path) -> None:
    env = {**os.environ, "SOCIAL_REDIS_URL": redis_url(), "SOCIAL_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True, timeout=60)
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["broker"] == "RedisBroker" and "AsyncIO" in found["middleware"]
    assert found["actors"] == ["social.wallet.cashout_updated", "social.wallet.reconciliation_break",
                               "social.wallet.suspicious_activity", "social.wallet.tip_sent"]
