using VaeLab.Runtime;
using System.Globalization;
using VaeLab.Data;
using VaeLab.Training;

namespace VaeLab.Interactive;

/// <summary>Training with a live display in a notebook cell.</summary>
public static class LiveTraining
{
    /// <summary>How long the stop button's callback waits for the loop to reach its batch boundary before it reports.</summary>
    static readonly TimeSpan BoundaryWait = TimeSpan.FromSeconds(3);

    /// <summary>
    /// <see cref="Trainer.Fit"/> with one output replaced in place: epoch and batch, running loss, throughput, ETA, and the
    /// ELBO per epoch as a small curve. A cancelled invocation (VS Code's stop button) ends training at the next batch
    /// boundary: completed epochs stay (and stay checkpointed in <paramref name="checkpointPath"/> when it is given), the
    /// output says where it stopped, and the cancellation goes on to stop the rest of the cell.
    /// </summary>
    /// <param name="trainer">The trainer.</param>
    /// <param name="train">The training data.</param>
    /// <param name="validation">Data for the test ELBO after each epoch (optional).</param>
    /// <param name="title">The display's title (default: the model and data).</param>
    /// <param name="checkpointPath">The checkpoint file, written atomically after every epoch (null: none).</param>
    /// <returns>The metrics of all completed epochs.</returns>
    /// <exception cref="OperationCanceledException">Stopped (after the output says where).</exception>
    public static IReadOnlyList<EpochMetrics> FitLive(this Trainer trainer, Dataset train, Dataset? validation = null, string? title = null, string? checkpointPath = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(train);
        var view = new LiveView(title ?? $"Training a VAE with {trainer.Model.LatentDimensions} latent dimensions on {train.Name}", "train ELBO", validation is null ? null : "test ELBO");
        view.Status = $"training step: {trainer.Strategy}";
        foreach (EpochMetrics m in trainer.History) view.AddPoint(m.Epoch, m.TrainElboNats, m.ValidationElboNats);
        var display = new LiveDisplay(view);
        TrainingProgress? last = null;
        using var stopped = new ManualResetEventSlim();
        using var stopping = display.Cancellation.Register(() =>
        {
            // Runs on the thread that cancels, while the cell's output still accepts updates: wait (briefly) for the loop to
            // leave at its batch boundary so the text says exactly what was kept.
            bool atBoundary = stopped.Wait(BoundaryWait);
            display.End(StoppedText(trainer, last, atBoundary ? "stopped" : "stopping at the next batch boundary", checkpointPath));
        });
        var progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            last = p;
            view.Status = string.Create(CultureInfo.InvariantCulture,
                $"epoch {p.Epoch}/{p.Epochs}, batch {p.Batch}/{p.Batches}: loss {p.RunningLossNats:F2} nats, {p.ExamplesPerSecond:F0} examples/s, ETA {Eta(p.Eta)}");
            if (p.Batch == p.Batches) return;   // the epoch's point comes after validation
            display.Refresh();
        });
        var points = new EpochPoints(progress, trainer, view, display, trainer.History.Count);
        try
        {
            IReadOnlyList<EpochMetrics> history = trainer.Fit(train, validation, points, display.Cancellation, checkpointPath);
            points.CatchUp();
            EpochMetrics? final = history.Count > 0 ? history[^1] : null;
            display.End(final is null ? "nothing to train: the trainer is already at its last epoch"
                : FormattableString.Invariant($"done: {history.Count} epochs, train ELBO {final.TrainElboNats:F2} nats")
                  + (double.IsFinite(final.ValidationElboNats) ? FormattableString.Invariant($", test ELBO {final.ValidationElboNats:F2} nats") : "")
                  + FormattableString.Invariant($", {final.ExamplesPerSecond:F0} examples/s ({trainer.Strategy.Parallelism}, {trainer.Strategy.Threads} threads)"));
            return history;
        }
        catch (OperationCanceledException)
        {
            points.CatchUp();
            stopped.Set();
            display.End(StoppedText(trainer, last, "stopped", checkpointPath));
            throw;
        }
        catch (Exception e)
        {
            display.End($"failed: {e.Message}");
            throw;
        }
    }

    /// <summary>A time span as h:mm:ss, hours counted past a day.</summary>
    internal static string Eta(TimeSpan eta) => string.Create(CultureInfo.InvariantCulture, $"{(long)eta.TotalHours}:{eta.Minutes:00}:{eta.Seconds:00}");

    static string StoppedText(Trainer trainer, TrainingProgress? at, string verb, string? checkpointPath)
    {
        string where = at is null ? "before the first batch" : $"in epoch {at.Epoch}/{at.Epochs} after batch {at.Batch}/{at.Batches}";
        int done = trainer.EpochsDone;
        string kept = done == 0 ? "no epoch completed"
            : $"{done} completed epoch{(done == 1 ? "" : "s")} kept" +
              (checkpointPath is not null ? $"; checkpoint {checkpointPath} holds epoch {done}, intact" : "");
        return $"{verb} {where}: {kept}";
    }

    /// <summary>Adds each finished epoch's point to the curve (the trainer reports the next epoch's first batch after validating).</summary>
    sealed class EpochPoints(IProgress<TrainingProgress> inner, Trainer trainer, LiveView view, LiveDisplay display, int shown) : IProgress<TrainingProgress>
    {
        int shown = shown;

        public void Report(TrainingProgress value)
        {
            CatchUp();
            inner.Report(value);
        }

        public void CatchUp()
        {
            while (shown < trainer.History.Count)
            {
                EpochMetrics m = trainer.History[shown++];
                view.AddPoint(m.Epoch, m.TrainElboNats, m.ValidationElboNats);
                display.Refresh(force: true);
            }
        }
    }
}
