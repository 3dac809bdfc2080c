using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Models;
using VaeLab.Training;
using VaeLab.Derivation.References;

namespace VaeLab.Tests.Evaluation;

public class EvaluatorTests
{
    static (VariationalAutoencoder Model, Dataset Data) Trained()
    {
        Dataset data = TestModels.SmallShapes(256);
        var (model, config) = TestModels.SmallVae(latent: 6);
        using var trainer = new Trainer(model, new TrainingOptions(Epochs: 8, BatchSize: 32, LearningRate: 3e-3, Seed: 2));
        trainer.Fit(data);
        return (model, data);
    }

    [Fact]
    public void TestElboTermsAddUpAndConvertToBitsPerDimension()
    {
        var (model, data) = Trained();
        using (data)
        {
            ElboSummary summary = Evaluator.TestElbo(model, data, seed: 1);
            Assert.Equal(256, summary.Examples);
            Assert.Equal(64, summary.Dimensions);
            Assert.Equal(summary.ReconstructionLogLikelihoodNats - summary.KlNats, summary.ElboNats, 6);
            Assert.Equal(-summary.ElboNats / (64 * Math.Log(2)), summary.NegativeElboBitsPerDimension, 12);
            Assert.True(summary.KlNats > 0 && summary.DistortionNats > 0 && summary.ElboStandardError > 0);
            Assert.Equal(summary, Evaluator.TestElbo(model, data, seed: 1)); // same seed, same figures
        }
    }

    [Fact]
    public void ImportanceSampledLogLikelihoodLiesAboveTheElboAndTightensWithK()
    {
        var (model, data) = Trained();
        using (data)
        {
            ElboSummary elbo = Evaluator.TestElbo(model, data, seed: 1, samples: 50);
            LogLikelihoodEstimate k10 = Evaluator.ImportanceSampledLogLikelihood(model, data, k: 10, seed: 2);
            LogLikelihoodEstimate k500 = Evaluator.ImportanceSampledLogLikelihood(model, data, k: 500, seed: 3, chunk: 64);
            Assert.True(elbo.ElboNats < k10.LogLikelihoodNats, $"ELBO {elbo.ElboNats} vs IWAE_10 {k10.LogLikelihoodNats}");
            Assert.True(k10.LogLikelihoodNats < k500.LogLikelihoodNats + 3 * k500.MonteCarloStandardError);
            Assert.True(k500.MonteCarloStandardError < k10.MonteCarloStandardError);
            Assert.True(k500.DataStandardError > 0);
            Assert.Equal(500, k500.Samples);
        }
    }

    [Fact]
    public void ChunkingDoesNotChangeTheEstimateBeyondItsNoise()
    {
        var (model, data) = Trained();
        using (data)
        {
            var whole = Evaluator.ImportanceSampledLogLikelihood(model, data, k: 200, seed: 4, chunk: 200);
            var chunked = Evaluator.ImportanceSampledLogLikelihood(model, data, k: 200, seed: 4, chunk: 7);
            double tolerance = 4 * Math.Sqrt(2) * whole.MonteCarloStandardError + 1e-6;
            Assert.InRange(chunked.LogLikelihoodNats, whole.LogLikelihoodNats - tolerance, whole.LogLikelihoodNats + tolerance);
        }
    }

    [Fact]
    public void KlPerDimensionSumsToTheKlAndActiveUnitsCountVariancesAboveTheThreshold()
    {
        var (model, data) = Trained();
        using (data)
        {
            double[] perDimension = Evaluator.KlPerDimension(model, data);
            Assert.Equal(6, perDimension.Length);
            Assert.Equal(Evaluator.TestElbo(model, data).KlNats, perDimension.Sum(), 4);
            var (active, variances) = ActiveUnits.Count(model, data);
            Assert.Equal(variances.Count(v => v > 0.01), active);
            Assert.InRange(active, 1, 6);

            // An untrained encoder whose mean ignores x has no active unit.
            var (fresh, _) = TestModels.SmallVae(latent: 6);
            using (no_grad())
                foreach (var (name, p) in fresh.Encoder.named_parameters())
                    if (name.Contains("weight")) p.zero_();
            Assert.Equal(0, ActiveUnits.Count(fresh, data).Active);

            // A flow whose λ ignores x: E_q[z] is the same for every x, and the Monte Carlo mean's own noise (Var_q / draws, about
            // 0.004 here) is subtracted rather than counted as activity.
            var flowConfig = new VaeConfig([1, 8, 8], LatentDimensions: 3, HiddenSizes: [16], Posterior: VaeLab.Models.Posteriors.PosteriorSpec.Parse("Planar:2"));
            manual_seed(3);
            using var flow = flowConfig.Build();
            using (no_grad())
                foreach (var (name, p) in flow.Encoder.named_parameters())
                    if (name.Contains("weight")) p.zero_();
            var (flowActive, flowVariances) = ActiveUnits.Count(flow, data);
            Assert.Equal(0, flowActive);
            Assert.All(flowVariances, v => Assert.True(v < 2e-3, $"variance {v} of a constant E_q[z]"));
        }
    }
}

public class ImportanceSamplingAgainstExactTests
{
    [Fact]
    public void OnALinearGaussianVaeTheEstimateReachesTheExactLogLikelihood()
    {
        // A VAE whose decoder is one linear layer with a fixed-σ Gaussian likelihood *is* the linear-Gaussian
        // model p(x|z) = N(Wz + b, σ²I): its exact log p(x) checks the estimator, whatever the encoder is.
        manual_seed(7);
        var config = new VaeLab.Models.VaeConfig([12], LatentDimensions: 3, HiddenSizes: [], Likelihood: VaeLab.Models.LikelihoodKind.GaussianFixed, Sigma: 0.5);
        var model = config.Build();
        model.to(ScalarType.Float64);
        var decoderLayer = model.Decoder.modules().OfType<TorchSharp.Modules.Linear>().Single();
        using var exact = new VaeLab.Derivation.References.LinearGaussianModel(decoderLayer.weight!, decoderLayer.bias!, 0.5);
        using var generator = new Generator(3);
        var (x, _) = exact.Sample(40, generator);
        using var data = new VaeLab.Data.Dataset("linear", "test", x);
        double truth = exact.LogMarginal(x).mean().item<double>();
        var elbo = Evaluator.TestElbo(model, data, seed: 1, samples: 200);
        var estimate = Evaluator.ImportanceSampledLogLikelihood(model, data, k: 20_000, seed: 2, chunk: 1000);
        Assert.True(elbo.ElboNats < truth - 0.5, $"an untrained encoder leaves a gap: ELBO {elbo.ElboNats}, log p(x) {truth}");
        Assert.InRange(estimate.LogLikelihoodNats, truth - 6 * estimate.MonteCarloStandardError - 0.02, truth + 0.02);
    }
}
