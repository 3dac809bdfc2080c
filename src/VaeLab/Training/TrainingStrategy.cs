namespace VaeLab.Training;

/// <summary>Which strategy a trainer's steps use, on how many threads, and why it was chosen.</summary>
/// <param name="Parallelism">The strategy that runs (never <see cref="TrainingParallelism.Auto"/>).</param>
/// <param name="Threads">Threads a step runs on: libtorch's for <see cref="TrainingParallelism.OneModel"/>, else one per shard or block.</param>
/// <param name="Reason">Why this strategy: what asked for it, or which rule ruled the faster ones out.</param>
public sealed record TrainingStrategy(TrainingParallelism Parallelism, int Threads, string Reason)
{
    /// <summary>"SplitLayers, 2 threads: …" — as <c>vaelab train</c> prints it.</summary>
    public override string ToString() => $"{Parallelism}, {Threads} thread{(Threads == 1 ? "" : "s")}: {Reason}";
}
