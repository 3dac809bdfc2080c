using static TorchSharp.torch;

namespace VaeLab.Objectives;

/// <summary>
/// The terms of the ELBO for a batch, one value per example, in nats, signed so they cannot be misread:
/// ELBO = ReconstructionLogLikelihood − Kl, loss(β) = Distortion + β·Kl. Kl is analytic (≥ 0) for the Gaussian posterior
/// families, a Monte Carlo estimate (unbiased, any sign per example) for flows.
/// Owns its tensors; dispose it (or let a dispose scope do it).
/// </summary>
/// <param name="ReconstructionLogLikelihoodNats">E_q[log p(x|z)] per example (Monte Carlo over z), [N].</param>
/// <param name="KlNats">KL(q(z|x) ‖ p(z)) per example, [N].</param>
/// <param name="KlPerDimensionNats">The same KL split over latent dimensions, [N, d], where the family's KL splits so (the diagonal Gaussian); else null.</param>
/// <param name="PosteriorParameters">The posterior's parameters λ(x), [N, P] (for the diagonal Gaussian [μ, log σ²]).</param>
public sealed record ElboEstimate(Tensor ReconstructionLogLikelihoodNats, Tensor KlNats, Tensor? KlPerDimensionNats, Tensor PosteriorParameters) : IDisposable
{
    /// <summary>−E_q[log p(x|z)] per example: the reconstruction cost ("distortion"), [N].</summary>
    public Tensor DistortionNats() => ReconstructionLogLikelihoodNats.neg();

    /// <summary>ELBO per example = E_q[log p(x|z)] − KL(q‖p), [N].</summary>
    public Tensor ElboNats() => ReconstructionLogLikelihoodNats - KlNats;

    /// <summary>The β-weighted loss averaged over the batch: mean(−E_q[log p(x|z)] + β·KL), a scalar; β = 1 gives −ELBO.</summary>
    public Tensor BetaLoss(double beta) => BetaElboLoss.Mean(ReconstructionLogLikelihoodNats, KlNats, beta);

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        ReconstructionLogLikelihoodNats.Dispose();
        KlNats.Dispose();
        KlPerDimensionNats?.Dispose();
        PosteriorParameters.Dispose();
    }
}
