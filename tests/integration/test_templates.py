#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ListTemplates, the TemplateNotFound message, the template_id of updates
and the validate_only option (issue 10 items 1 and 5; DESIGN.md, Wave 2)."""

import json
import os
import pwd
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean

from certgen_test.testbus import (ACTION_GENERATE, BUS_NAME, MANAGER_IFACE, OBJECT_PATH,
                                  TEMPLATE_DIR, CertgenTestCase, GLib, batch_json, main,
                                  multi_uid, recipient, single_json, with_polkit)

ENTRY_TYPES = {"id": "s", "title": "s", "description": "s", "width_pt": "d", "height_pt": "d",
               "fields": "aa{sv}"}
FIELD_TYPES = {"name": "s", "label": "s", "required": "b", "type": "s", "min_length": "u",
               "max_length": "u", "shared": "b"}
SHIPPED = ["classic", "modern"]


def expected_entry(template_id):
    """What ListTemplates must say of a template, read from its layout.json
    with the defaults of data/templates/README.md."""
    with open(os.path.join(TEMPLATE_DIR, template_id, "layout.json"), encoding="utf-8") as f:
        layout = json.load(f)
    fields = []
    for field in layout["fields"]:
        key = field.get("key")
        if key is None or key in ("qr", "certificateNumber"):
            continue
        required = field.get("required", False)
        is_string = field.get("type", "string") == "string"  # lengths: strings only
        fields.append({
            "name": key,
            "label": field.get("label", key),
            "required": required,
            "type": field.get("type", "string"),
            "min_length": field.get("minLength", 1 if required else 0) if is_string else 0,
            "max_length": field.get("maxLength", 0) if is_string else 0,
            "shared": True,  # a batch may share any field
        })
    return {"id": template_id, "title": layout.get("title", template_id),
            "description": layout.get("description", ""),
            "width_pt": float(layout["page"]["width"]),
            "height_pt": float(layout["page"]["height"]), "fields": fields}


class TemplateTests(CertgenTestCase):

    def list_raw(self):
        return self.root.raw_call(BUS_NAME, OBJECT_PATH, MANAGER_IFACE, "ListTemplates", None,
                                  "(aa{sv})").get_child_value(0)

    # -- ListTemplates ----------------------------------------------------------

    def test_list_templates_equals_files(self):
        """Every shipped template, sorted by id, as its layout.json says."""
        templates = self.root.call("ListTemplates")
        self.assertEqual([t["id"] for t in templates], SHIPPED)
        for template in templates:
            with self.subTest(template=template["id"]):
                self.assertEqual(template, expected_entry(template["id"]))
        classic = templates[0]
        self.assertEqual(classic["title"], "Classic")
        self.assertEqual([f["name"] for f in classic["fields"]],
                         ["recipientName", "courseName", "description", "issueDate", "issuer"])

    def test_list_templates_wire_types(self):
        """Each key has the D-Bus type of the contract."""
        raw = self.list_raw()
        self.assertEqual(raw.n_children(), len(SHIPPED))
        for i in range(raw.n_children()):
            entry = raw.get_child_value(i)
            self.assertEqual({k: entry.lookup_value(k, None).get_type_string()
                              for k in ENTRY_TYPES}, ENTRY_TYPES)
            self.assertEqual(entry.n_children(), len(ENTRY_TYPES))
            fields = entry.lookup_value("fields", None)
            for j in range(fields.n_children()):
                field = fields.get_child_value(j)
                self.assertEqual({k: field.lookup_value(k, None).get_type_string()
                                  for k in FIELD_TYPES}, FIELD_TYPES)
                self.assertEqual(field.n_children(), len(FIELD_TYPES))

    def test_list_templates_creates_nothing(self):
        """A read-only call: no generation, no file, no rate limit used."""
        for _ in range(3):
            self.root.call("ListTemplates")
        self.assertEqual(self.root.call("ListGenerations"), [])
        self.assertEqual(self.cert_dir_entries(), [])

    @with_polkit()
    def test_list_templates_needs_generate(self):
        """With polkit, who may not generate may not list either; uid 0 may."""
        self.assertEqual([t["id"] for t in self.root.call("ListTemplates")], SHIPPED)

    @multi_uid
    @with_polkit()
    def test_list_templates_polkit_other_uid(self):
        """Another uid needs org.certgen.Certificates1.generate for ListTemplates."""
        u1 = self.spawn_client("certgen-test1")
        self.assertEqual(u1.uid, pwd.getpwnam("certgen-test1").pw_uid)
        self.assertClientError(u1.call("ListTemplates"), "PermissionDenied", "generate denied")
        self.set_polkit_allowed([ACTION_GENERATE])
        reply = u1.call("ListTemplates")
        self.assertTrue(reply["ok"], reply)
        self.assertEqual([t["id"] for t in reply["value"]], SHIPPED)

    @multi_uid
    def test_list_templates_other_uid_without_polkit(self):
        """Without polkit everyone may generate, so everyone may list."""
        u1 = self.spawn_client("certgen-test1")
        reply = u1.call("ListTemplates")
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["value"], self.root.call("ListTemplates"))

    # -- TemplateNotFound -----------------------------------------------------

    def test_template_not_found_lists_ids(self):
        for template in ("nosuchtemplate", "classic2", "a" * 64):
            with self.subTest(template=template):
                e = self.assertDBusError("TemplateNotFound", self.root.start, single_json(),
                                         template=template)
                self.assertEqual(e.message, f"Template '{template}' not found; "
                                 "available: classic, modern")
        self.assertEqual(self.root.call("ListGenerations"), [])

    # -- template_id ------------------------------------------------------------

    def test_template_id_in_updates(self):
        pid, updates = self.run_to_end(single_json(), template="modern")
        self.assertEqual({u["template_id"] for u in updates}, {"modern"})
        self.assertEqual(self.root.progress(pid)["template_id"], "modern")
        listed = self.root.call("ListGenerations")
        self.assertEqual([s["template_id"] for s in listed], ["modern"])

    # -- validate_only ----------------------------------------------------------

    def test_validate_only(self):
        """template_loading and data_validation, then completed with
        pages_total: no result, no file, no number used."""
        before_pid, before = self.run_to_end(single_json())
        first = before[-1]["result"]["certificate_number"]

        pid, updates = self.run_to_end(batch_json(3), validate_only=True)
        last = updates[-1]
        self.assertEqual(last["status"], "completed", last)
        self.assertEqual(last["stage"], "completed")
        self.assertEqual(last["progress"], 100.0)
        self.assertEqual(last["pages_total"], 3)
        self.assertNotIn("result", last)
        self.assertNotIn("result", self.root.progress(pid))
        stages = []
        for u in updates:
            if not stages or stages[-1] != u["stage"]:
                stages.append(u["stage"])
        self.assertEqual(stages, ["initializing", "template_loading", "data_validation",
                                  "completed"])
        self.assert_no_file_for(pid)
        e = self.assertDBusError("NotReady", self.root.open_certificate, pid)
        self.assertIn("validate_only", e.message)
        analytics = self.root.call("GetAnalytics", pid)
        self.assertEqual(analytics["status"], "completed")
        self.assertNotIn("pdf_generation", analytics["stage_durations"])

        # the counter did not move: the next real one gets the next number
        _, after = self.run_to_end(single_json())
        number = after[-1]["result"]["certificate_number"]
        self.assertEqual(int(number[-6:]), int(first[-6:]) + 1, (first, number))
        self.assertEqual(sorted(self.cert_dir_entries()),
                         sorted([f"{before_pid}.pdf", f"{after[-1]['progress_id']}.pdf"]))

    def test_validate_only_invalid_data(self):
        """Invalid data fails as it would without the option."""
        data = json.dumps({"recipients": [recipient(0), {"courseName": "x"}]})
        pid, updates = self.run_to_end(data, validate_only=True)
        last = updates[-1]
        self.assertEqual(last["status"], "failed", last)
        self.assertEqual(last["error"], "org.certgen.Certificates1.Error.InvalidData")
        self.assertEqual(last["error_message"], "recipients[1].recipientName: required; "
                         "recipients[1].issueDate: required")
        self.assertEqual([e["path"] for e in last["errors"]],
                         ["recipients[1].recipientName", "recipients[1].issueDate"])
        self.assert_no_file_for(pid)
        _, real = self.run_to_end(data)
        self.assertEqual(real[-1]["error_message"], last["error_message"])
        self.assertEqual(real[-1]["errors"], last["errors"])

    def test_validate_only_wrong_type(self):
        """A wrong type is InvalidArgument, nothing is created."""
        self.assertDBusError("InvalidArgument", self.root.start, single_json(),
                             validate_only=GLib.Variant("s", "yes"))
        self.assertEqual(self.root.call("ListGenerations"), [])


class TemplateDirTests(CertgenTestCase):
    """An administrator's template directory before the shipped one: its
    templates are listed (its copy of an id wins), a broken one is left out
    and logged, and certgend keeps serving."""

    def setUp(self):
        self.admin_dir = tempfile.mkdtemp(prefix="certgen-templates-")
        self.addCleanup(shutil.rmtree, self.admin_dir, True)
        background = os.path.join(TEMPLATE_DIR, "classic", "background.pdf")
        with open(os.path.join(TEMPLATE_DIR, "classic", "layout.json"), encoding="utf-8") as f:
            classic = json.load(f)
        layouts = {
            "classic": dict(classic, title="Our Classic"),
            "award": {"title": "Award", "page": classic["page"],
                      "background": {"file": "background.pdf"},
                      "fields": [{"key": "recipientName", "label": "Awardee", "required": True,
                                  "x": 421, "y": 200, "size": 24, "maxWidth": 600}]},
            "broken": dict(classic, title="A\u001bB"),
            "Not-An-Id": classic,
        }
        for name, layout in layouts.items():
            os.makedirs(os.path.join(self.admin_dir, name))
            shutil.copy(background, os.path.join(self.admin_dir, name))
            with open(os.path.join(self.admin_dir, name, "layout.json"), "w",
                      encoding="utf-8") as f:
                json.dump(layout, f)  # the ESC of "broken" written as an escape
        self.extra_template_dirs = [self.admin_dir]
        super().setUp()

    def test_admin_templates_listed(self):
        templates = self.root.call("ListTemplates")
        self.assertEqual([t["id"] for t in templates], ["award", "classic", "modern"])
        self.assertEqual(templates[1]["title"], "Our Classic")
        self.assertEqual(templates[0]["fields"],
                         [{"name": "recipientName", "label": "Awardee", "required": True,
                           "type": "string", "min_length": 1, "max_length": 0,
                           "shared": True}])
        with open(self.daemon_log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertIn("Template broken is left out of the list", log)
        self.assertIn("title: contains a control character", log)
        # the ids there are, broken or not; never a name that is not an id
        e = self.assertDBusError("TemplateNotFound", self.root.start, single_json(),
                                 template="fancy")
        self.assertEqual(e.message, "Template 'fancy' not found; "
                         "available: award, broken, classic, modern")
        self.assert_healthy()


if __name__ == "__main__":
    main()
