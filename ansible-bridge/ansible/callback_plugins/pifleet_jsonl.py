# pifleet's stdout callback: ansible.posix.jsonl (one JSON object per event) plus one field,
# "pifleet_ignored", on failed results, so pifleet can tell ignored failures from real ones
# (jsonl drops the ignore_errors flag Ansible passes to the callback).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.ansible.posix.plugins.callback.jsonl import CallbackModule as JsonlCallback

DOCUMENTATION = """
    name: pifleet_jsonl
    short_description: ansible.posix.jsonl with ignored failures marked
    description:
      - Writes every event as one JSON line on stdout, like ansible.posix.jsonl.
      - Failed results carry pifleet_ignored=true when the task ignores errors.
    type: stdout
    options:
      show_custom_stats:
        description: Add custom stats set via set_stats to the play recap.
        default: false
        type: bool
        env:
          - name: ANSIBLE_SHOW_CUSTOM_STATS
        ini:
          - key: show_custom_stats
            section: defaults
      json_indent:
        description: Indent JSON by this many spaces; 0 writes one line per event.
        default: 0
        type: integer
        env:
          - name: ANSIBLE_JSON_INDENT
        ini:
          - key: json_indent
            section: defaults
"""


class CallbackModule(JsonlCallback):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "pifleet_jsonl"

    def __getattribute__(self, name):
        handler = super(CallbackModule, self).__getattribute__(name)
        if name != "v2_runner_on_failed":
            return handler

        def on_failed(result, ignore_errors=False):
            result._result["pifleet_ignored"] = bool(ignore_errors)
            return handler(result)

        return on_failed
