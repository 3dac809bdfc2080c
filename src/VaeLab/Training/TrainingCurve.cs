namespace VaeLab.Training;

/// <summary>
/// What a training-curve chart draws for one run: its name and, per epoch, the training and held-out ELBO (nats per
/// example; NaN where a run was not validated). Built from a trainer's history or from a finished sweep run.
/// </summary>
/// <param name="Name">The legend's name of the run.</param>
/// <param name="TrainElboByEpoch">Training ELBO of each epoch (mean over its batches).</param>
/// <param name="ValidationElboByEpoch">Held-out ELBO after each epoch.</param>
public sealed record TrainingCurve(string Name, double[] TrainElboByEpoch, double[] ValidationElboByEpoch)
{
    /// <summary>The curve of a trainer's history (<see cref="Trainer.History"/> or what <see cref="Trainer.Fit"/> returned).</summary>
    public static TrainingCurve FromHistory(string name, IEnumerable<EpochMetrics> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        EpochMetrics[] epochs = history.ToArray();
        return new TrainingCurve(name, epochs.Select(e => e.TrainElboNats).ToArray(), epochs.Select(e => e.ValidationElboNats).ToArray());
    }
}
