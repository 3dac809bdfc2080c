namespace VaeLab.Training;

/// <summary>
/// How a training step spreads over the cores (<see cref="TrainingOptions.Parallelism"/> asks, <see cref="Trainer.Strategy"/>
/// says what ran). The rules that decide, and why a strategy cannot apply, are in one place, <c>Training/Steps/StepSelector.cs</c>;
/// docs/benchmarks.md ("How a training step runs") gives the measurements behind them.
/// </summary>
public enum TrainingParallelism
{
    /// <summary>Let the trainer choose from the model, the objective, the batch and the threads (the fastest strategy that applies).</summary>
    Auto,

    /// <summary>One model on the whole batch, autograd's gradient, each operation split by libtorch over its threads (the reference).</summary>
    OneModel,

    /// <summary>The batch split by examples, one replica of the model per thread (data parallelism); the gradients are added before the update.</summary>
    SplitExamples,

    /// <summary>The encoder's first and the decoder's last layer split by units between the threads (tensor parallelism), each thread updating its own units.</summary>
    SplitLayers,
}
