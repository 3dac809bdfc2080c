using VaeLab.Models;
using VaeLab.Objectives;

namespace VaeLab.Tests.Objectives;

public class ImportanceWeightedBoundTests
{
    static (VariationalAutoencoder Model, Tensor X) Setup()
    {
        var (model, _) = TestModels.SmallVae(seed: 5);
        model.to(ScalarType.Float64);
        using var data = TestModels.SmallShapes(16, seed: 5);
        return (model, data.Examples.to_type(ScalarType.Float64));
    }

    [Fact]
    public void KOneIsTheSingleSampleElboAndAveragesToTheAnalyticKlElbo()
    {
        var (model, x) = Setup();
        using (x)
        {
            // Same ε: IWAE_1 = log p(x|z) + log p(z) − log q(z|x) with the z the ELBO drew.
            using var g1 = new Generator(9);
            using var iwae = ImportanceWeightedBound.Estimate(model, x, 1, g1);
            using var g2 = new Generator(9);
            var (mean, logVariance) = model.EncodeDiagonal(x);
            using var epsilon = randn(mean.shape, ScalarType.Float64, generator: g2);
            using var z = mean + logVariance.mul(0.5).exp() * epsilon;
            using var logLikelihood = model.Likelihood.LogProb(x.view(x.shape[0], -1), model.Decode(z));
            double log2Pi = Math.Log(2 * Math.PI);
            using var logPrior = (z.square() + log2Pi).sum(1).mul(-0.5);
            using var logQ = (epsilon.square() + logVariance + log2Pi).sum(1).mul(-0.5);
            using var singleSample = logLikelihood + logPrior - logQ;
            Assert.True(iwae.allclose(singleSample, rtol: 1e-12, atol: 1e-9));

            // In expectation IWAE_1 is the ELBO with the analytic KL.
            using var g3 = new Generator(10);
            var draws = Enumerable.Range(0, 3000).Select(_ => { using var v = ImportanceWeightedBound.Estimate(model, x, 1, g3); return v.mean().item<double>(); }).ToArray();
            using var g4 = new Generator(11);
            using ElboEstimate elbo = Elbo.Estimate(model, x, g4, samples: 20_000);
            double target = elbo.ElboNats().mean().item<double>();
            double average = draws.Average();
            double se = Math.Sqrt(draws.Select(d => (d - average) * (d - average)).Sum() / (draws.Length - 1) / draws.Length);
            Assert.InRange(target, average - 4 * se - 0.05, average + 4 * se + 0.05);
        }
    }

    [Fact]
    public void TheBoundDoesNotDecreaseWithKOnAverage()
    {
        var (model, x) = Setup();
        using (x)
        {
            using var generator = new Generator(12);
            double Average(int k) => Enumerable.Range(0, 40).Average(_ =>
            {
                using var v = ImportanceWeightedBound.Estimate(model, x, k, generator);
                return v.mean().item<double>();
            });
            double k1 = Average(1), k5 = Average(5), k50 = Average(50);
            Assert.True(k1 < k5 && k5 < k50, $"IWAE_1 {k1}, IWAE_5 {k5}, IWAE_50 {k50}");
        }
    }

    [Fact]
    public void KBelowOneIsRefused()
    {
        var (model, x) = Setup();
        using (x)
            Assert.Throws<ArgumentOutOfRangeException>(() => ImportanceWeightedBound.Estimate(model, x, 0));
    }
}
