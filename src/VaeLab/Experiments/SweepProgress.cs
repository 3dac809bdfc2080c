using VaeLab.Training;

namespace VaeLab.Experiments;

/// <summary>Where a sweep stands: which run, and where that run's training stands.</summary>
/// <param name="Run">1-based number of the run within this shard.</param>
/// <param name="Runs">Runs in this shard.</param>
/// <param name="RunId">The run's id.</param>
/// <param name="Training">The run's training progress (null between runs).</param>
public sealed record SweepProgress(int Run, int Runs, string RunId, TrainingProgress? Training)
{
    /// <summary>Fraction of the shard done, counting the current run's epochs and batches.</summary>
    public double Fraction => Training is null
        ? (double)Run / Runs
        : (Run - 1 + (Training.Epoch - 1 + Training.Batch / (double)Training.Batches) / Training.Epochs) / Runs;
}
