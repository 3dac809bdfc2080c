using System.Globalization;
using VaeLab.Experiments;

namespace VaeLab.Interactive;

/// <summary>Sweeps with a live display in a notebook cell.</summary>
public static class LiveSweep
{
    /// <summary>
    /// <see cref="SweepRunner.Run"/> with one output replaced in place: which run, its epoch and batch, the share of the sweep
    /// done, the log of finished runs with their test ELBO, and the test ELBO of each finished run as a small curve. The
    /// stop button cancels at the next batch boundary; finished runs stay in the store and a rerun continues from there.
    /// </summary>
    /// <returns>The finished runs of the sweep (all of them unless stopped).</returns>
    public static IReadOnlyList<RunResult> Run(SweepSpec spec, ResultStore store, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(store);
        int total = spec.Configurations().Count;
        var view = new LiveView(title ?? $"Sweep of {total} runs into {store.Folder}", "test ELBO of each finished run");
        var display = new LiveDisplay(view);
        var log = new List<string>();
        var ids = new HashSet<string>(spec.Configurations().Select(c => c.Id));
        void Finished()
        {
            RunResult[] done = store.Load().Where(r => ids.Contains(r.RunId)).ToArray();
            view.Details = [.. log.TakeLast(12)];
            while (view.Points.Count < done.Length)
            {
                RunResult r = done[view.Points.Count];
                view.AddPoint(view.Points.Count + 1, r.TestElboNats);
            }
        }
        var messages = new SynchronousProgress<string>(line =>
        {
            log.Add(line);
            Finished();
            display.Refresh(force: true);
        });
        var detail = new SynchronousProgress<SweepProgress>(p =>
        {
            view.Status = p.Training is { } t
                ? string.Create(CultureInfo.InvariantCulture, $"run {p.Run}/{p.Runs} ({p.RunId}): epoch {t.Epoch}/{t.Epochs}, batch {t.Batch}/{t.Batches}, loss {t.RunningLossNats:F2} nats; {100 * p.Fraction:F0} % of the sweep")
                : string.Create(CultureInfo.InvariantCulture, $"run {p.Run}/{p.Runs} ({p.RunId}): evaluating; {100 * p.Fraction:F0} % of the sweep");
            display.Refresh();
        });
        using var stopping = display.Cancellation.Register(() =>
            display.End($"stopping at the next batch boundary; {store.Load().Count(r => ids.Contains(r.RunId))} of {total} runs are finished and saved in {store.Folder}: run the cell again to continue"));
        try
        {
            IReadOnlyList<RunResult> runs = SweepRunner.Run(spec, store, progress: messages, cancellation: display.Cancellation, detail: detail);
            Finished();
            display.End(string.Create(CultureInfo.InvariantCulture, $"done: {runs.Count} runs in {store.Folder}"));
            return runs;
        }
        catch (OperationCanceledException)
        {
            Finished();
            RunResult[] done = store.Load().Where(r => ids.Contains(r.RunId)).ToArray();
            display.End($"stopped: {done.Length} of {total} runs are finished and saved in {store.Folder}; run the cell again to continue");
            return done;
        }
    }
}
