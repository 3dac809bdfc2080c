"""Drives the pinned .NET kernel over the two protocols notebook front ends speak, and writes one JSON object to
<result file> for KernelProtocolTests.cs:

- "jupyter": the Jupyter messages of a cell that trains with VaeLab's live display (JupyterLab, nbconvert): every
  display_data / update_display_data with the display id it carries.
- "stdio": the kernel events of the same through `dotnet interactive stdio` (the protocol VS Code's Polyglot Notebooks
  speaks), then a Cancel command (its stop button) sent during a 200-epoch training, then a cell that reads how far the
  trainer got and resumes its checkpoint.

usage: /usr/bin/python3 kernel_protocol_probe.py <kernel folder inside the repository> <work folder> <result file>
(the kernel folder must lie inside the repository: the kernel is its local dotnet tool; the kernel logs to stdout)
"""
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

from jupyter_client.manager import start_new_kernel

kernel_folder, work, result_file = sys.argv[1], sys.argv[2], sys.argv[3]
checkpoint = os.path.join(work, "stopped.ckpt")
PREPARE = '#r "nuget:VaeLab.Interactive, 0.2.0"\nVaeLab.Interactive.Notebook.Prepare(seed: 1, threads: 1)'
SETUP = """using VaeLab.Data; using VaeLab.Models; using VaeLab.Training;
var data = FashionMnist.LoadEmbeddedImages();
var train = data.Subset(TorchSharp.torch.arange(1024)); var test = data.Subset(TorchSharp.torch.arange(1024, 1280));
var config = VaeConfig.Reference with { HiddenSizes = new[] { 64 } };"""
LIVE = """var quickTrainer = new Trainer(config.Build(), new TrainingOptions(Epochs: 3, Seed: 1));
quickTrainer.FitLive(train, test);"""
# A title, a heading and a table cell holding markup: the notebook report must show them as text.
PAYLOAD = "<img src=x onerror=alert(1)>"
INJECT = f"""VaeLab.Interactive.Notebook.Section({json.dumps(PAYLOAD)});
new VaeLab.Plotting.ValueTable({json.dumps(PAYLOAD)}, "what", "value").Add({json.dumps(PAYLOAD)}, "1").Display();
VaeLab.Interactive.Notebook.WriteReport({json.dumps(os.path.join(work, "injected-report.html"))}, {json.dumps(PAYLOAD)})"""
result = {}


def jupyter():
    km, kc = start_new_kernel(kernel_name=".net-csharp", cwd=kernel_folder, startup_timeout=120)

    def run(code):
        msg_id = kc.execute(code)
        messages = []
        while True:
            msg = kc.get_iopub_msg(timeout=300)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            if msg["msg_type"] in ("display_data", "update_display_data", "execute_result", "stream", "error"):
                messages.append({"type": msg["msg_type"], "display_id": (content.get("transient") or {}).get("display_id"),
                                 "html": (content.get("data") or {}).get("text/html", ""),
                                 "text": content.get("text", "") + content.get("ename", "") + content.get("evalue", "")})
            if msg["msg_type"] == "status" and content.get("execution_state") == "idle":
                return messages

    try:
        run(PREPARE)
        run(SETUP)
        result["jupyter"] = run(LIVE)
        result["inject"] = run(INJECT)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def stdio():
    process = subprocess.Popen(["dotnet", "interactive", "stdio", "--default-kernel", "csharp"], cwd=kernel_folder,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
                               start_new_session=True)   # `dotnet interactive` starts the kernel as a child: end both
    events = queue.Queue()

    def read():
        for line in process.stdout:
            if line.startswith("{"):
                try:
                    events.put(json.loads(line))
                except ValueError:
                    pass

    threading.Thread(target=read, daemon=True).start()
    tokens = [0]

    def send(kind, command):
        tokens[0] += 1
        token = f"probe{tokens[0]}"
        process.stdin.write(json.dumps({"commandType": kind, "command": command, "token": token}) + "\n")
        process.stdin.flush()
        return token

    def run(code, cancel_after_updates=None):
        token = send("SubmitCode", {"code": code, "targetKernelName": "csharp"})
        seen, updates, deadline = [], 0, time.time() + 300
        while time.time() < deadline:
            try:
                envelope = events.get(timeout=1)
            except queue.Empty:
                continue
            kind, event = envelope.get("eventType"), envelope.get("event", {})
            if (envelope.get("command") or {}).get("token", "").split(".")[0] != token:
                continue
            seen.append({"type": kind, "value_id": event.get("valueId"), "message": event.get("message", ""),
                         "values": [f.get("value", "") for f in event.get("formattedValues", [])]})
            if kind == "DisplayedValueUpdated":
                updates += 1
                if updates == cancel_after_updates:
                    send("Cancel", {})
            if kind in ("CommandSucceeded", "CommandFailed") and envelope["command"].get("token") == token:
                break
        return seen

    try:
        run(PREPARE)
        run(SETUP)
        result["stdio_live"] = run(LIVE)
        result["stdio_stop"] = run(f"""var slow = new Trainer(config.Build(), new TrainingOptions(Epochs: 200, Seed: 1));
slow.FitLive(train, test, checkpointPath: {json.dumps(checkpoint)});""", cancel_after_updates=5)
        time.sleep(2)   # the cancelled loop ends at its next batch boundary
        result["stdio_after"] = run(f"""var resumed = new Trainer(config.Build(), new TrainingOptions(Epochs: 200, Seed: 1));
resumed.Resume({json.dumps(checkpoint)});
Console.WriteLine($"stopped at {{slow.EpochsDone}} epochs; checkpoint resumes at {{resumed.EpochsDone}}");""")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


jupyter()
stdio()
with open(result_file, "w") as out:
    json.dump(result, out)
