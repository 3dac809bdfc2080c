using TorchSharp.Modules;
using VaeLab.Models;
using VaeLab.Objectives;
using static TorchSharp.torch;

namespace VaeLab.Training.Steps;

/// <summary>Names the first non-finite quantity of a step, for <see cref="NonFiniteValueException"/>: every strategy says it the same way.</summary>
internal static class NonFiniteDiagnosis
{
    /// <summary>The first non-finite quantity of a batch's evaluation, in the order the forward pass computes them.</summary>
    public static string Of(VariationalAutoencoder model, ObjectiveValue value)
    {
        static bool Bad(Tensor t) { using var finite = t.isfinite().all(); return !finite.item<bool>(); }
        Tensor parameters = value.Terms.PosteriorParameters;
        if (Bad(parameters))
        {
            // The first column holding a non-finite value, named by the posterior family ("the encoder mean μ", "planar layer 2's w").
            using Tensor badColumns = parameters.isfinite().logical_not().any(0).nonzero();
            return model.Posterior.DescribeColumn(badColumns[0, 0].item<long>());
        }
        foreach (var (name, parameter) in model.Posterior.named_parameters())
            if (Bad(parameter)) return $"the {model.Posterior.Spec} posterior's weights (parameter {name})";
        foreach (var (name, parameter) in model.Likelihood.named_parameters())
            if (Bad(parameter)) return $"the likelihood's learned log scale (parameter {name})";
        if (Bad(value.Terms.KlNats)) return "KL(q(z|x) ‖ p(z)) (nats)";
        if (Bad(value.Terms.ReconstructionLogLikelihoodNats)) return "the reconstruction log-likelihood E_q[log p(x|z)] (nats)";
        return "the loss";
    }

    /// <summary>Throws, naming the first parameter whose gradient is not finite, when <paramref name="norm"/> is not finite.</summary>
    public static void ThrowIfGradientNotFinite(VariationalAutoencoder model, double norm, StepPosition at)
    {
        if (double.IsFinite(norm)) return;
        foreach (var (name, parameter) in model.named_parameters())
        {
            Tensor? grad = parameter.grad;
            if (grad is null) continue;
            using var finite = grad.isfinite().all();
            if (!finite.item<bool>()) throw new NonFiniteValueException(at.Epoch, at.Batch, $"the gradient of {name}");
        }
        throw new NonFiniteValueException(at.Epoch, at.Batch, "the gradient norm");
    }
}
