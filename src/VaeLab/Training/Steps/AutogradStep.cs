using VaeLab.Objectives;
using static TorchSharp.torch;

namespace VaeLab.Training.Steps;

/// <summary>
/// The reference step (<see cref="TrainingParallelism.OneModel"/>): one model on the whole batch, the loss from
/// <see cref="TrainingObjective.Evaluate"/>, autograd's gradient, optional clipping and the Adam update; ε from the run's
/// generator. Every other strategy is tested against it.
/// </summary>
internal sealed class AutogradStep(StepSetup setup, TrainingStrategy strategy) : ITrainingStep
{
    /// <inheritdoc/>
    public TrainingStrategy Strategy => strategy;

    /// <inheritdoc/>
    public int KernelThreads => strategy.Threads;   // the count chosen (TrainingOptions.Threads or libtorch's when the trainer was made)

    /// <inheritdoc/>
    public void Train() => setup.Model.train();

    /// <inheritdoc/>
    public StepResult Run(Tensor x, StepPosition at)
    {
        setup.Optimizer.ZeroGrad();
        ObjectiveValue value = TrainingObjective.Evaluate(setup.Objective, setup.Model, x, at.Step, setup.Generator);
        double loss = value.Loss.item<float>();
        double reconstruction = value.Terms.ReconstructionLogLikelihoodNats.sum().item<float>();
        double kl = value.Terms.KlNats.sum().item<float>();
        if (!double.IsFinite(loss) || !double.IsFinite(reconstruction) || !double.IsFinite(kl))
            throw new NonFiniteValueException(at.Epoch, at.Batch, NonFiniteDiagnosis.Of(setup.Model, value));
        value.Loss.backward();
        double norm = setup.Options.GradientClipNorm is double clip ? setup.Optimizer.ClipGradientNorm(clip) : setup.Optimizer.GradientNorm();
        NonFiniteDiagnosis.ThrowIfGradientNotFinite(setup.Model, norm, at);
        setup.Optimizer.Step();
        return new StepResult(loss, reconstruction, kl);
    }

    /// <inheritdoc/>
    public void Dispose() { }
}
