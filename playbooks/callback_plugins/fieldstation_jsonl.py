# Fieldstation's stdout callback: one JSON object per line, small and parsable while the play
# runs. Only names, statuses and messages are printed, never module arguments, and results
# of `no_log` tasks carry no message.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    name: fieldstation_jsonl
    type: stdout
    short_description: One JSON line per task event, for Fieldstation's AnsibleRunner
    description:
      - Prints events C(play_start), C(task_start), C(task_result), C(retry) and C(stats).
"""

import json

from ansible.plugins.callback import CallbackBase

MESSAGE_LIMIT = 2000


def _message(result):
    if result.get("censored") or result.get("_ansible_no_log"):
        return "output hidden (no_log)"
    parts = []
    for key in ("msg", "reason"):
        if result.get(key):
            parts.append(str(result[key]))
    stderr = (result.get("stderr") or "").strip()
    if stderr:
        parts.append(stderr)
    if "rc" in result and result.get("rc") not in (0, None):
        parts.append("rc=%s" % result["rc"])
    return _tail(" | ".join(parts))


def _tail(text):
    """The end of a long message (where the error is), cut at a line or word boundary with a
    leading ellipsis, so the user never reads a fragment that begins mid-word."""
    if len(text) <= MESSAGE_LIMIT:
        return text
    tail = text[-MESSAGE_LIMIT:]
    for boundary in ("\n", " "):
        cut = tail.find(boundary)
        # A line boundary only if it keeps most of the tail; else the first word boundary.
        if 0 <= cut < MESSAGE_LIMIT // 2:
            return "… " + tail[cut + 1 :].lstrip()
    return "… " + tail


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "fieldstation_jsonl"

    def _emit(self, event, **fields):
        fields["event"] = event
        self._display.display(json.dumps(fields, sort_keys=True, default=str))

    def _task_result(self, status, result, ignore_errors=False):
        record = {
            "task": result._task.get_name(),
            "host": result._host.get_name(),
            "status": status,
            "changed": bool(result._result.get("changed", False)),
        }
        if status in ("failed", "unreachable"):
            record["message"] = _message(result._result)
            record["ignored"] = bool(ignore_errors)
        self._emit("task_result", **record)

    def v2_playbook_on_play_start(self, play):
        self._emit("play_start", play=play.get_name())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit("task_start", task=task.get_name())

    def v2_playbook_on_handler_task_start(self, task):
        self._emit("task_start", task=task.get_name(), handler=True)

    def v2_runner_on_ok(self, result):
        changed = result._result.get("changed", False)
        self._task_result("changed" if changed else "ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._task_result("failed", result, ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._task_result("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._task_result("unreachable", result)

    def v2_runner_retry(self, result):
        self._emit(
            "retry",
            task=result._task.get_name(),
            host=result._host.get_name(),
            attempt=result._result.get("attempts"),
            retries=result._result.get("retries"),
        )

    def v2_playbook_on_stats(self, stats):
        hosts = {}
        for host in sorted(stats.processed.keys()):
            hosts[host] = stats.summarize(host)
        self._emit("stats", hosts=hosts)
