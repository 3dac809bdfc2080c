using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Optimization;
using static TorchSharp.torch;

namespace VaeLab.Training.Steps;

/// <summary>Where in the run a step is: for its ε streams and for naming the batch a non-finite value came from.</summary>
internal readonly record struct StepPosition(int Epoch, int Batch, long Step);

/// <summary>What one step measured: the batch's mean loss and its summed ELBO terms, nats.</summary>
internal readonly record struct StepResult(double Loss, double ReconstructionSum, double KlSum);

/// <summary>What every strategy is given: the model, its optimiser, the objective and settings, and the run's generator.</summary>
internal sealed record StepSetup(VariationalAutoencoder Model, FlatAdam Optimizer, ObjectiveOptions Objective, TrainingOptions Options, Generator Generator);

/// <summary>
/// One training step: the objective's loss on a batch, its gradient and the optimiser's update. One implementation per
/// strategy (<see cref="AutogradStep"/> is the reference, <see cref="SplitExamplesStep"/> and <see cref="SplitLayersStep"/> the
/// parallel ones); <see cref="StepSelector"/> holds every rule for which one a trainer uses.
/// </summary>
internal interface ITrainingStep : IDisposable
{
    /// <summary>The strategy, its thread count and why it was chosen.</summary>
    TrainingStrategy Strategy { get; }

    /// <summary>libtorch threads the calling thread's kernels run with during a step.</summary>
    int KernelThreads { get; }

    /// <summary>Puts every copy of the model in training mode.</summary>
    void Train();

    /// <summary>One step on batch <paramref name="x"/>: loss, gradient, update.</summary>
    /// <exception cref="NonFiniteValueException">A loss term or gradient was NaN or ±∞ (named); nothing non-finite was written.</exception>
    StepResult Run(Tensor x, StepPosition at);
}
