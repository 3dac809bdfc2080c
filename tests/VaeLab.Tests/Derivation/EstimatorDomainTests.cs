using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Models;
using VaeLab.Objectives;
using static TorchSharp.torch;
using VaeLab.Derivation.References;

namespace VaeLab.Tests.Derivation;

/// <summary>
/// The estimators of the derivation are defined for k ≥ 1 samples, at least one z, positive batch and chunk sizes, and
/// σ in the likelihood's range: outside that they refuse with the setting named, and at the edge (k = 1, one sample,
/// chunk 1) they compute.
/// </summary>
public class EstimatorDomainTests
{
    [Fact]
    public void TheEstimatorsRefuseWhereTheMathsIsUndefinedAndComputeAtTheEdge()
    {
        using var scope = NewDisposeScope();
        using var linear = LinearGaussianModel.Random(dataDimensions: 6, latentDimensions: 2, sigma: 0.5, seed: 1);
        VariationalAutoencoder vae = linear.MeanFieldVariationalAutoencoder();
        using var generator = new Generator(1);
        var (x, _) = linear.Sample(3, generator);
        using var data = new Dataset("linear", "test", x.clone());

        // Bits per dimension: one dimension is the edge (−log p / ln 2), none is refused.
        Assert.Equal(1 / Math.Log(2), BitsPerDimension.FromLogLikelihoodNats(-1, 1), 15);
        Assert.Equal("dimensions", Assert.Throws<ArgumentOutOfRangeException>(() => BitsPerDimension.FromLogLikelihoodNats(-1, 0)).ParamName);
        Assert.Equal("samples", Assert.Throws<ArgumentOutOfRangeException>(() => Elbo.Estimate(vae, x, generator, samples: 0)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => ImportanceWeightedBound.Estimate(vae, x, 0, generator)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => Evaluator.ImportanceSampledLogLikelihood(vae, data, k: 0)).ParamName);
        Assert.Equal("chunk", Assert.Throws<ArgumentOutOfRangeException>(() => Evaluator.ImportanceSampledLogLikelihood(vae, data, k: 10, chunk: 0)).ParamName);
        Assert.Equal("batchSize", Assert.Throws<ArgumentOutOfRangeException>(() => Evaluator.ImportanceSampledLogLikelihood(vae, data, k: 10, batchSize: 0)).ParamName);
        Assert.Equal("batchSize", Assert.Throws<ArgumentOutOfRangeException>(() => Evaluator.TestElbo(vae, data, batchSize: 0)).ParamName);
        Assert.Equal("dimensions", Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianLikelihood(GaussianVariance.Fixed, 0)).ParamName);
        Assert.Equal("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianLikelihood(GaussianVariance.Fixed, 6, sigma: 20)).ParamName);
        Assert.Equal("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianLikelihood(GaussianVariance.Fixed, 6, sigma: 1e-4)).ParamName);
        Assert.Throws<ArgumentNullException>(() => Elbo.Estimate(null!, x));
        Assert.Throws<ArgumentNullException>(() => new VariationalAutoencoder(null!, vae.Decoder, vae.Likelihood, [6]));
        Assert.Throws<ArgumentNullException>(() => new VariationalAutoencoder(vae.Encoder, null!, vae.Likelihood, [6]));
        Assert.Throws<ArgumentNullException>(() => new VariationalAutoencoder(vae.Encoder, vae.Decoder, null!, [6]));
        Assert.Throws<ArgumentNullException>(() => new VariationalAutoencoder(vae.Encoder, vae.Decoder, vae.Likelihood, null!));

        // At the edge: one sample, k = 1 (an unbiased ELBO estimate, with no Monte Carlo spread to report), chunk and batch 1.
        using (ElboEstimate one = Elbo.Estimate(vae, x, generator, samples: 1)) Assert.Equal(3, one.ElboNats().shape[0]);
        Assert.Equal(3, ImportanceWeightedBound.Estimate(vae, x, 1, generator).shape[0]);
        LogLikelihoodEstimate single = Evaluator.ImportanceSampledLogLikelihood(vae, data, k: 1, batchSize: 1, chunk: 1);
        Assert.True(double.IsFinite(single.LogLikelihoodNats));
        Assert.Equal(0, single.MonteCarloStandardError);
        Assert.True(double.IsFinite(Evaluator.TestElbo(vae, data, batchSize: 1).ElboNats));
        Assert.InRange(new GaussianLikelihood(GaussianVariance.Fixed, 6, sigma: 10).LogProb(x, x).sum().item<double>(), -1e9, 0);
        Assert.Equal(0.001, Math.Exp(new GaussianLikelihood(GaussianVariance.Fixed, 6, sigma: 1e-3).LogSigma(x).item<double>()), 12);
        Assert.Equal(1, new GaussianLikelihood(GaussianVariance.LearnedPerDimension, 1).Dimensions);
        Assert.Equal(6, vae.InputDimensions);
    }
}
