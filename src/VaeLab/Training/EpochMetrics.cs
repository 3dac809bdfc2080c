namespace VaeLab.Training;

/// <summary>
/// What one epoch measured, per example in nats. Training figures are means over the epoch's batches as
/// trained (parameters changing); validation figures use the parameters at the end of the epoch, one z
/// sample per example drawn from a generator of its own (so they do not disturb the training stream).
/// </summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Steps">Optimiser steps taken so far in the run.</param>
/// <param name="TrainLossNats">Mean loss minimised (−ELBO for β = 1).</param>
/// <param name="TrainElboNats">Mean ELBO of the training batches.</param>
/// <param name="TrainReconstructionLogLikelihoodNats">Mean E_q[log p(x|z)].</param>
/// <param name="TrainKlNats">Mean KL(q(z|x) ‖ p(z)).</param>
/// <param name="ValidationElboNats">Validation ELBO (NaN without validation data).</param>
/// <param name="ValidationReconstructionLogLikelihoodNats">Validation E_q[log p(x|z)] (NaN without validation data).</param>
/// <param name="ValidationKlNats">Validation KL (NaN without validation data).</param>
/// <param name="Beta">β in force at the end of the epoch (the warm-up's value).</param>
/// <param name="Seconds">Wall time of the epoch's training part, seconds.</param>
/// <param name="ExamplesPerSecond">Training examples per second.</param>
/// <param name="Parallelism">The strategy the epoch's steps ran with (<see cref="Trainer.Strategy"/>; Auto in checkpoints that predate the record).</param>
/// <param name="Threads">Threads the steps ran on (0 where not recorded).</param>
public sealed record EpochMetrics(
    int Epoch,
    long Steps,
    double TrainLossNats,
    double TrainElboNats,
    double TrainReconstructionLogLikelihoodNats,
    double TrainKlNats,
    double ValidationElboNats,
    double ValidationReconstructionLogLikelihoodNats,
    double ValidationKlNats,
    double Beta,
    double Seconds,
    double ExamplesPerSecond,
    TrainingParallelism Parallelism = TrainingParallelism.Auto,
    int Threads = 0)
{
    /// <summary>The same metrics without the timings: what must repeat exactly for the same seed.</summary>
    public EpochMetrics WithoutTimings() => this with { Seconds = 0, ExamplesPerSecond = 0 };
}
