using System.Globalization;
using VaeLab.Data;
using VaeLab.Training;

namespace VaeLab.Interactive;

/// <summary>Training with a live display in a notebook cell.</summary>
public static class LiveTraining
{
    /// <summary>
    /// <see cref="Trainer.Fit"/> with one output replaced in place: epoch and batch, running loss, throughput, ETA, and the
    /// ELBO per epoch as a small curve. The notebook's stop button cancels at the next batch boundary; completed epochs
    /// stay (and stay checkpointed when <see cref="TrainingOptions.CheckpointPath"/> is set) and the output says where it stopped.
    /// </summary>
    /// <returns>The metrics of all completed epochs (also when stopped).</returns>
    public static IReadOnlyList<EpochMetrics> FitLive(this Trainer trainer, Dataset train, Dataset? validation = null, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var view = new LiveView(title ?? $"Training a VAE with {trainer.Model.LatentDimensions} latent dimensions on {train.Name}", "train ELBO", validation is null ? null : "test ELBO");
        foreach (EpochMetrics m in trainer.History) view.AddPoint(m.Epoch, m.TrainElboNats, m.ValidationElboNats);
        var display = new LiveDisplay(view);
        TrainingProgress? last = null;
        using var stopping = display.Cancellation.Register(() =>
            // Runs when the stop button is pressed, while the cell's output still accepts updates.
            display.End(StoppedText(trainer, last, "stopping at the next batch boundary")));
        var progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            last = p;
            view.Status = string.Create(CultureInfo.InvariantCulture,
                $"epoch {p.Epoch}/{p.Epochs}, batch {p.Batch}/{p.Batches}: loss {p.RunningLossNats:F2} nats, {p.ExamplesPerSecond:F0} examples/s, ETA {p.Eta:hh\\:mm\\:ss}");
            if (p.Batch == p.Batches) return;   // the epoch's point comes after validation
            display.Refresh();
        });
        try
        {
            var points = new EpochPoints(progress, trainer, view, display, trainer.History.Count);
            IReadOnlyList<EpochMetrics> history = trainer.Fit(train, validation, points, display.Cancellation);
            points.CatchUp();
            EpochMetrics? final = history.Count > 0 ? history[^1] : null;
            display.End(final is null ? "nothing to train: the trainer is already at its last epoch"
                : FormattableString.Invariant($"done: {history.Count} epochs, train ELBO {final.TrainElboNats:F2} nats")
                  + (double.IsFinite(final.ValidationElboNats) ? FormattableString.Invariant($", test ELBO {final.ValidationElboNats:F2} nats") : "")
                  + FormattableString.Invariant($", {final.ExamplesPerSecond:F0} examples/s"));
            return history;
        }
        catch (OperationCanceledException)
        {
            display.End(StoppedText(trainer, last, "stopped"));
            return trainer.History;
        }
    }

    static string StoppedText(Trainer trainer, TrainingProgress? at, string verb)
    {
        string where = at is null ? "before the first batch" : $"in epoch {at.Epoch}/{at.Epochs} after batch {at.Batch}/{at.Batches}";
        string kept = trainer.EpochsDone == 0 ? "no epoch completed"
            : $"{trainer.EpochsDone} completed epoch{(trainer.EpochsDone == 1 ? "" : "s")} kept" +
              (trainer.Options.CheckpointPath is { } path ? $"; checkpoint {path} holds epoch {trainer.EpochsDone}, intact" : "");
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

/// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread (Progress&lt;T&gt; posts to a context a notebook cell does not pump).</summary>
sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
