using VaeLab.Runtime;
using System.Diagnostics;
using System.Globalization;
using VaeLab.Experiments;

namespace VaeLab.Interactive;

/// <summary>Sweeps with a live display in a notebook cell.</summary>
public static class LiveSweep
{
    /// <summary>
    /// <see cref="SweepRunner.Run"/> with one output replaced in place: which run, its epoch and batch, the share of the sweep
    /// done and its ETA, the log of finished runs, and the test ELBO of each run as it finishes, as a small curve. A
    /// cancelled invocation (VS Code's stop button) ends it at the next batch boundary of training (evaluation finishes its
    /// step first); finished runs stay in the store and running the cell again continues from there.
    /// </summary>
    /// <returns>The runs of the sweep.</returns>
    /// <exception cref="OperationCanceledException">Stopped (after the output says how far it got).</exception>
    public static IReadOnlyList<RunResult> Run(SweepSpec spec, ResultStore store, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(store);
        IReadOnlyList<RunConfig> configurations = spec.Configurations();
        var view = new LiveView(title ?? $"Sweep of {configurations.Count} runs into {store.Folder}", "test ELBO of each run, in the order they finished");
        var display = new LiveDisplay(view);
        var log = new List<string>();
        var plotted = new HashSet<string>();
        var clock = Stopwatch.StartNew();
        // The sweep's own runs, each validated; a damaged row is the sweep's to set aside (it says so in the log), not the view's.
        RunResult[] Finished() => configurations.Select(c => store.TryRead(c.Id, out _)).OfType<RunResult>().ToArray();
        void CatchUp()
        {
            view.Details = [.. log.TakeLast(12)];
            foreach (RunResult r in Finished().Where(r => !plotted.Contains(r.RunId)).OrderBy(r => r.FinishedUtc))
            {
                plotted.Add(r.RunId);
                view.AddPoint(plotted.Count, r.TestElboNats);
            }
        }
        var messages = new SynchronousProgress<string>(line =>
        {
            log.Add(line);
            CatchUp();
            display.Refresh(force: true);
        });
        var detail = new SynchronousProgress<SweepProgress>(p =>
        {
            double fraction = Math.Clamp(p.Fraction, 1e-6, 1);
            string eta = LiveTraining.Eta(TimeSpan.FromSeconds(clock.Elapsed.TotalSeconds * (1 - fraction) / fraction));
            view.Status = p.Training is { } t
                ? string.Create(CultureInfo.InvariantCulture, $"run {p.Run}/{p.Runs} ({p.RunId}): epoch {t.Epoch}/{t.Epochs}, batch {t.Batch}/{t.Batches}, loss {t.RunningLossNats:F2} nats; {100 * p.Fraction:F0} % of the sweep, ETA {eta}")
                : string.Create(CultureInfo.InvariantCulture, $"run {p.Run}/{p.Runs} ({p.RunId}): evaluating; {100 * p.Fraction:F0} % of the sweep, ETA {eta}");
            display.Refresh();
        });
        string StoppedText(string verb) =>
            $"{verb}: {Finished().Length} of {configurations.Count} runs are finished and saved in {store.Folder}; run the cell again to continue";
        using var stopping = display.Cancellation.Register(() => display.End(StoppedText("stopping at the next batch boundary")));
        try
        {
            IReadOnlyList<RunResult> runs = SweepRunner.Run(spec, store, progress: messages, cancellation: display.Cancellation, detail: detail);
            CatchUp();
            display.End(string.Create(CultureInfo.InvariantCulture, $"done: {runs.Count} runs in {store.Folder}, {clock.Elapsed.TotalSeconds:F0} s"));
            return runs;
        }
        catch (OperationCanceledException)
        {
            CatchUp();
            display.End(StoppedText("stopped"));
            throw;
        }
        catch (Exception e)
        {
            display.End($"failed: {e.Message}");
            throw;
        }
    }
}
