using VaeLab.Models;
using static TorchSharp.torch;

namespace VaeLab.Objectives;

/// <summary>One batch's loss (the scalar to minimise) and the ELBO terms reported beside it.</summary>
/// <param name="Loss">Scalar loss, differentiable.</param>
/// <param name="Terms">The single-sample ELBO terms of the batch (for metrics and the non-finite guard).</param>
public sealed record ObjectiveValue(Tensor Loss, ElboEstimate Terms) : IDisposable
{
    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Loss.Dispose();
        Terms.Dispose();
    }
}

/// <summary>Evaluates <see cref="ObjectiveOptions"/> on a batch at a given optimiser step.</summary>
public static class TrainingObjective
{
    /// <summary>The loss of batch <paramref name="x"/> at optimiser step <paramref name="step"/>, and its ELBO terms.</summary>
    public static ObjectiveValue Evaluate(ObjectiveOptions options, VariationalAutoencoder model, Tensor x, long step, Generator generator)
    {
        using var scope = NewDisposeScope();
        ElboEstimate terms;
        Tensor loss;
        switch (options.Kind)
        {
            case ObjectiveKind.Iwae or ObjectiveKind.Miwae or ObjectiveKind.Ciwae:
            {
                Tensor flat = x.view(x.shape[0], -1);
                Tensor parameters = model.Encode(x);
                int samples = options.Kind == ObjectiveKind.Miwae ? options.MiwaeGroups * options.IwaeSamples : options.IwaeSamples;
                var (logLikelihood, logPrior, logDensity) = ImportanceWeightedBound.WeightTerms(model, flat, parameters, samples, generator);
                Tensor logWeights = ImportanceWeightedBound.LogWeight(logLikelihood, logPrior, logDensity);
                Tensor bound = options.Kind switch
                {
                    ObjectiveKind.Miwae => ImportanceWeightedBound.Miwae(logWeights, options.MiwaeGroups),
                    ObjectiveKind.Ciwae => ImportanceWeightedBound.Ciwae(logWeights, options.CiwaeBeta),
                    _ => ImportanceWeightedBound.FromLogWeights(logWeights),
                };
                loss = bound.mean().neg();
                // Report the ELBO terms of the first sample (an unbiased single-sample ELBO) without a second decoder pass; the KL
                // analytic where the family has one, else that sample's log q − log p.
                Tensor kl = (model.AnalyticKl(parameters) ?? logDensity[0].sub(logPrior[0])).detach();
                Tensor firstLogWeight = logWeights[0].detach();
                terms = new ElboEstimate(firstLogWeight.add(kl), kl, model.AnalyticKlPerDimension(parameters)?.detach(), parameters.detach());
                break;
            }
            case ObjectiveKind.BetaTcvae:
            {
                if (model.Posterior is not VaeLab.Models.Posteriors.DiagonalPosterior)
                    throw new ArgumentException($"β-TCVAE splits the KL with the diagonal Gaussian's marginals; this model's posterior is {model.Posterior.Spec}.");
                Tensor flat = x.view(x.shape[0], -1);
                Tensor parameters = model.Encode(x);
                var (draws, logDensity) = model.SamplePosterior(parameters, 1, generator);
                Tensor z = draws[0];
                Tensor logLikelihood = model.Likelihood.LogProb(flat, model.Decode(z));
                Tensor logPrior = model.Prior.LogDensity(z);
                var (information, correlation, dimensionWise) = TotalCorrelation.Decompose(z, model.Posterior.Mean(parameters), model.Posterior.LogVariance(parameters),
                    logPrior, options.TcDatasetSize, options.TcEstimator);
                loss = information.mul(options.TcAlpha).add(correlation.mul(options.BetaAt(step))).add(dimensionWise.mul(options.TcGamma)).sub(logLikelihood).mean();
                Tensor kl = logDensity[0].sub(logPrior);   // = the three parts' sum
                terms = new ElboEstimate(logLikelihood.detach(), kl.detach(), null, parameters.detach());
                break;
            }
            case ObjectiveKind.Capacity:
                terms = Elbo.Estimate(model, x, generator);
                loss = terms.KlNats.mean().sub(options.CapacityAt(step)).abs().mul(options.CapacityGamma)
                    .sub(terms.ReconstructionLogLikelihoodNats.mean());
                break;
            default:
                terms = Elbo.Estimate(model, x, generator);
                loss = terms.BetaLoss(options.BetaAt(step));
                break;
        }
        var value = new ObjectiveValue(loss, terms);
        loss.MoveToOuterDisposeScope();
        terms.ReconstructionLogLikelihoodNats.MoveToOuterDisposeScope();
        terms.KlNats.MoveToOuterDisposeScope();
        terms.KlPerDimensionNats?.MoveToOuterDisposeScope();
        terms.PosteriorParameters.MoveToOuterDisposeScope();
        return value;
    }
}
