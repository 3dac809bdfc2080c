using VaeLab.Data;
using VaeLab.Evaluation;
using VaeLab.Models;
using VaeLab.Objectives;
using VaeLab.Training;

namespace VaeLab.Tests.Evaluation;

/// <summary>
/// Every likelihood on Fashion-MNIST's 8-bit pixels reports bits/dim that mean the same thing: −log₂ of a probability of the
/// image or a bound on it, never negative; the learned per-pixel σ that used to report a positive ELBO on raw pixels does not.
/// </summary>
public class EightBitLikelihoodTests
{
    static (Dataset Train, Dataset Test) Data()
    {
        using DataChoice choice = FashionMnist.Load();
        using Tensor first = arange(2000), firstTest = arange(500);
        return (choice.Train.Subset(first), choice.Test.Subset(firstTest));
    }

    [Theory]
    [InlineData(LikelihoodKind.GaussianPerPixel)]
    [InlineData(LikelihoodKind.GaussianShared)]
    [InlineData(LikelihoodKind.DiscretizedGaussian)]
    [InlineData(LikelihoodKind.DiscretizedLogistic)]
    public void BitsPerDimensionAreNeverNegativeOnEightBitPixels(LikelihoodKind kind)
    {
        var (train, test) = Data();
        using (train)
        using (test)
        {
            var config = new VaeConfig([1, 28, 28], LatentDimensions: 8, HiddenSizes: [64], Likelihood: kind, Sigma: 0.2);
            manual_seed(2);
            using VariationalAutoencoder model = config.Build();
            using var trainer = new Trainer(model, new TrainingOptions(Epochs: 2, BatchSize: 100, LearningRate: 3e-3, Seed: 2));
            var history = trainer.Fit(train, test);
            Assert.True(trainer.Treatment!.IsProbabilityOfData, $"{kind}: the figures should be a probability of the 8-bit image or a bound on it");
            Assert.All(history, epoch => Assert.True(epoch.TrainElboNats < 0 && epoch.ValidationElboNats < 0, $"{kind}: epoch {epoch.Epoch} ELBO is positive"));

            ElboSummary elbo = Evaluator.TestElbo(model, test, seed: 1);
            LogLikelihoodEstimate logLikelihood = Evaluator.ImportanceSampledLogLikelihood(model, test, k: 20, seed: 1);
            Assert.InRange(elbo.NegativeElboBitsPerDimension, 0, 16);
            Assert.InRange(logLikelihood.NegativeLogLikelihoodBitsPerDimension, 0, elbo.NegativeElboBitsPerDimension + 0.01);
            Assert.Equal(trainer.Treatment.Label, elbo.Treatment!.Label);
            // The training-time validation figure is the evaluator's, on the same treatment.
            Assert.Equal(history[^1].ValidationElboNats, Evaluator.TestElbo(model, test, 2 * 1_000_003 + 2, batchSize: 100).ElboNats, 6);
        }
    }

    [Fact]
    public void ThePerPixelDensityOnRawPixelsIsWhatUsedToReportPositiveElbos()
    {
        // The same model, its density evaluated on the raw values k/255 (Elbo.Estimate, no treatment): σ shrinks on pixels that
        // are always 0, the density there grows without bound, and the "ELBO" exceeds 0; dequantised, the figure is a bound on log P.
        var (train, test) = Data();
        using (train)
        using (test)
        {
            var config = new VaeConfig([1, 28, 28], LatentDimensions: 8, HiddenSizes: [64], Likelihood: LikelihoodKind.GaussianPerPixel, Sigma: 0.2);
            manual_seed(3);
            using VariationalAutoencoder model = config.Build();
            using var trainer = new Trainer(model, new TrainingOptions(Epochs: 3, BatchSize: 100, LearningRate: 3e-3, Seed: 3));
            trainer.Fit(train);
            using var generator = new Generator(1);
            model.eval();
            using var noGrad = no_grad();
            using ElboEstimate raw = Elbo.Estimate(model, test.Examples, generator);
            double rawElbo = raw.ElboNats().mean().item<float>();
            ElboSummary honest = Evaluator.TestElbo(model, test, seed: 1);
            Assert.True(rawElbo > honest.ElboNats + 784 * Math.Log(256) - 200, $"raw {rawElbo:F1} vs dequantised {honest.ElboNats:F1}");
            Assert.True(honest.ElboNats < 0);
            Assert.Throws<ArgumentException>(() => Evaluator.TestElbo(model, test, treatment: PixelTreatment.Resolve(model.Likelihood, test, dequantization: Dequantization.None)));
        }
    }
}
