using TorchSharp;
using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Evaluation.Inference;

/// <summary>
/// Hamiltonian Monte Carlo on the annealed targets f_β(z) = p(z) p(x|z)^β of a VAE, for many chains at once (one row each):
/// energy U_β(z) = ½‖z‖² − β log p(x|z) (the prior's constant cancels in every ratio), leapfrog integration, a Metropolis
/// accept/reject, and a step size per chain multiplied by exp(κ(a − a*)) after each transition, a being the acceptance
/// probability, so each chain settles near the target acceptance a*. A caller may overwrite the step sizes before a transition
/// (<see cref="SetStepSizes"/>): AIS does so for the chains whose weights it keeps, giving them step sizes learned by other
/// (pilot) chains, because a kernel that depends on the chain's own history would bias the AIS weights. log p(x|z) and its
/// gradient come from autograd of the model's own decoder and likelihood; they are kept for the current z, where AIS reads its weights.
/// </summary>
internal sealed class HamiltonianMonteCarlo : IDisposable
{
    // How fast the step size follows the acceptance: a factor of at most e^{0.1·0.65} ≈ 1.07 per transition.
    const double Adaptation = 0.1;
    static readonly Scalar Half = 0.5, One = 1.0, Zero = 0.0, MinimumStep = 1e-4, MaximumStep = 2.0;

    readonly VariationalAutoencoder model;
    readonly Tensor x;
    readonly Generator generator;
    readonly int leapfrogSteps;
    readonly Scalar targetAcceptance, adaptation = Adaptation;

    /// <summary>Starts chains at <paramref name="zStart"/> [R, d] for the data rows <paramref name="xRows"/> [R, D].</summary>
    public HamiltonianMonteCarlo(VariationalAutoencoder model, Tensor xRows, Tensor zStart, double stepSize, int leapfrogSteps, double targetAcceptance, Generator generator)
    {
        this.model = model;
        x = xRows.detach().DetachFromDisposeScope();
        this.generator = generator;
        this.leapfrogSteps = leapfrogSteps;
        this.targetAcceptance = targetAcceptance;  // made once: an implicit Scalar per call is freed only by the finalizer
        Z = zStart.detach().clone().DetachFromDisposeScope();
        StepSize = full(new long[] { zStart.shape[0], 1 }, stepSize, zStart.dtype, zStart.device).DetachFromDisposeScope();
        (LogLikelihood, Gradient) = Evaluate(Z);
    }

    /// <summary>The chains' current positions, [R, d].</summary>
    public Tensor Z { get; private set; }

    /// <summary>log p(x|z) at the current positions, [R], in the model's dtype.</summary>
    public Tensor LogLikelihood { get; private set; }

    /// <summary>∇_z log p(x|z) at the current positions, [R, d].</summary>
    public Tensor Gradient { get; private set; }

    /// <summary>Each chain's leapfrog step size, [R, 1].</summary>
    public Tensor StepSize { get; private set; }

    /// <summary>Sum over transitions of the mean acceptance probability (divide by <see cref="Transitions"/>).</summary>
    public double AcceptanceSum { get; private set; }

    /// <summary>Transitions made.</summary>
    public int Transitions { get; private set; }

    /// <summary>Replaces every chain's step size ([R, 1]; copied).</summary>
    public void SetStepSizes(Tensor stepSizes)
    {
        using var noGrad = no_grad();
        StepSize.copy_(stepSizes);
    }

    /// <summary>One HMC transition that leaves f_β invariant, then the step-size adaptation.</summary>
    public void Step(double beta)
    {
        using var scope = NewDisposeScope();
        using Scalar b = beta, minusB = -beta;
        Tensor momentum0 = randn(Z.shape, Z.dtype, Z.device, generator: generator);
        Tensor halfStep = StepSize.mul(Half);
        // ∇U = z − β ∇log p(x|z).
        Tensor momentum = momentum0.sub(halfStep.mul(Z.add(Gradient, minusB)));
        Tensor z = Z;
        Tensor logLikelihood = LogLikelihood, gradient = Gradient;
        for (int step = 1; step <= leapfrogSteps; step++)
        {
            z = z.addcmul(StepSize, momentum, One);
            (logLikelihood, gradient) = Evaluate(z);
            Tensor force = z.add(gradient, minusB);
            momentum = momentum.sub((step < leapfrogSteps ? StepSize : halfStep).mul(force));
        }
        // H = U + ½‖p‖², in float64 so the accept ratio of large log-likelihoods keeps its digits.
        Tensor before = Energy(Z, LogLikelihood, momentum0, b);
        Tensor after = Energy(z, logLikelihood, momentum, b);
        Tensor logAccept = before.sub(after).nan_to_num(double.NegativeInfinity, double.PositiveInfinity, double.NegativeInfinity).clamp_max(Zero);
        Tensor acceptProbability = logAccept.exp();
        Tensor accept = rand(logAccept.shape, ScalarType.Float64, logAccept.device, generator: generator).log().lt(logAccept);
        Tensor keep = accept.unsqueeze(1);
        Replace(where(keep, z, Z), where(accept, logLikelihood, LogLikelihood), where(keep, gradient, Gradient),
            StepSize.mul(acceptProbability.sub(targetAcceptance).mul(adaptation).exp().unsqueeze(1).to_type(StepSize.dtype)).clamp(MinimumStep, MaximumStep));
        AcceptanceSum += acceptProbability.mean().item<double>();
        Transitions++;
    }

    // U + ½‖p‖² = ½‖z‖² − β log p(x|z) + ½‖p‖² per row, float64.
    static Tensor Energy(Tensor z, Tensor logLikelihood, Tensor momentum, Scalar beta)
    {
        Tensor kinetic = momentum.to_type(ScalarType.Float64).square().sum(1).mul(Half);
        Tensor prior = z.to_type(ScalarType.Float64).square().sum(1).mul(Half);
        return prior.add(kinetic, One).sub(logLikelihood.to_type(ScalarType.Float64).mul(beta));
    }

    /// <summary>log p(x|z) [R] and ∇_z log p(x|z) [R, d] by autograd through the model's decoder and likelihood.</summary>
    (Tensor LogLikelihood, Tensor Gradient) Evaluate(Tensor z)
    {
        using var enable = enable_grad();
        using var scope = NewDisposeScope();
        Tensor leaf = z.detach().requires_grad_(true);
        Tensor logLikelihood = model.Likelihood.LogProb(x, model.Decode(leaf));
        Tensor gradient = autograd.grad([logLikelihood.sum()], [leaf])[0];
        return (logLikelihood.detach().MoveToOuterDisposeScope(), gradient.detach().MoveToOuterDisposeScope());
    }

    void Replace(Tensor z, Tensor logLikelihood, Tensor gradient, Tensor stepSize)
    {
        Z.Dispose();
        LogLikelihood.Dispose();
        Gradient.Dispose();
        StepSize.Dispose();
        Z = z.DetachFromDisposeScope();
        LogLikelihood = logLikelihood.DetachFromDisposeScope();
        Gradient = gradient.DetachFromDisposeScope();
        StepSize = stepSize.DetachFromDisposeScope();
    }

    /// <summary>Frees the chains' state.</summary>
    public void Dispose()
    {
        x.Dispose();
        Z.Dispose();
        LogLikelihood.Dispose();
        Gradient.Dispose();
        StepSize.Dispose();
        targetAcceptance.Dispose();
        adaptation.Dispose();
    }
}
