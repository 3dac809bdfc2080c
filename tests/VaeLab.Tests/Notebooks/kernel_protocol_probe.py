"""Drives the .NET (C#) Jupyter kernel over the Jupyter protocol, as VS Code and JupyterLab do, and prints one JSON
object: every display message of a VaeLab live training display (with the display id it carries), and what happens when
the stop button (a kernel interrupt) is pressed during training. Used by KernelProtocolTests.cs.

usage: python3 kernel_protocol_probe.py <work folder>
"""
import json
import os
import sys
import time

from jupyter_client.manager import start_new_kernel

work = sys.argv[1]
checkpoint = os.path.join(work, "stopped.ckpt")

km, kc = start_new_kernel(kernel_name=".net-csharp", cwd=work)


def run(code, timeout=300, interrupt_after_updates=None):
    """Executes code; returns the iopub messages of that execution (and interrupts after N display updates if asked)."""
    msg_id = kc.execute(code)
    messages, updates, interrupted = [], 0, False
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=5)
        except Exception:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        content = msg["content"]
        if kind in ("display_data", "update_display_data", "execute_result", "stream", "error"):
            messages.append({
                "type": kind,
                "display_id": (content.get("transient") or {}).get("display_id"),
                "html": (content.get("data") or {}).get("text/html", ""),
                "text": content.get("text", "") or (content.get("data") or {}).get("text/plain", ""),
                "error": content.get("ename", "") + ": " + content.get("evalue", "") if kind == "error" else "",
            })
            if kind == "update_display_data":
                updates += 1
                if interrupt_after_updates is not None and updates == interrupt_after_updates and not interrupted:
                    km.interrupt_kernel()
                    interrupted = True
        if kind == "status" and content.get("execution_state") == "idle":
            break
    reply = kc.get_shell_msg(timeout=60)
    return {"messages": messages, "status": reply["content"].get("status"), "interrupted": interrupted}


result = {}
try:
    result["prepare"] = run('#r "nuget:VaeLab.Interactive, 0.2.0"\nVaeLab.Interactive.Notebook.Prepare(seed: 1, threads: 1)')
    setup = """using VaeLab.Data; using VaeLab.Models; using VaeLab.Training;
var data = FashionMnist.LoadEmbeddedImages();
var train = data.Subset(TorchSharp.torch.arange(1024)); var test = data.Subset(TorchSharp.torch.arange(1024, 1280));
var config = VaeConfig.Reference with { HiddenSizes = new[] { 64 } };"""
    result["setup"] = run(setup)
    result["live"] = run("""var quickTrainer = new Trainer(config.Build(), new TrainingOptions(Epochs: 3, Seed: 1), config);
quickTrainer.FitLive(train, test);""")
    result["stop"] = run(f"""var slowTrainer = new Trainer(config.Build(), new TrainingOptions(Epochs: 200, Seed: 1, CheckpointPath: {json.dumps(checkpoint)}), config);
slowTrainer.FitLive(train, test);""", interrupt_after_updates=6)
    time.sleep(3)   # the cancelled loop ends at its next batch boundary
    result["after"] = run(f"""var resumed = new Trainer(config.Build(), new TrainingOptions(Epochs: 200, Seed: 1), config);
resumed.Resume({json.dumps(checkpoint)});
Console.WriteLine($"resumed epochs={{resumed.EpochsDone}} stopped-trainer epochs={{slowTrainer.EpochsDone}}");""")
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)

print(json.dumps(result))
