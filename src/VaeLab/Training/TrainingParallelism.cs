namespace VaeLab.Training;

/// <summary>How a <see cref="Trainer"/> spreads a training step over the cores (<see cref="Trainer.Parallelism"/>).</summary>
public enum TrainingParallelism
{
    /// <summary>One model on the whole batch, each operation split by libtorch over its threads.</summary>
    OneModel,

    /// <summary>The batch split by examples, one replica of the model per thread (data parallelism); the gradients are added before the update.</summary>
    SplitExamples,

    /// <summary>The encoder's first and the decoder's last layer split by units between the threads (tensor parallelism), each thread updating its own units.</summary>
    SplitLayers,
}
