using VaeLab.Objectives;
using VaeLab.Training;

namespace VaeLab.Tests.Objectives;

/// <summary>β-TCVAE's split of the KL as a user trains with it; its maths against closed forms is check 12 of `vaelab check`.</summary>
public class TotalCorrelationTests
{
    [Fact]
    public void TheStratifiedWeightsGiveTheOwnPosterior1OverNAndSumTo1()
    {
        using Tensor weights = TotalCorrelation.LogWeights(4, 10, TcEstimator.MinibatchStratified, ScalarType.Float64).exp();
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(0.1, weights[i, i].item<double>(), 12);
            for (int j = 0; j < 4; j++)
                if (j != i) Assert.Equal(9.0 / (10 * 3), weights[i, j].item<double>(), 12);
            Assert.Equal(1.0, weights[i].sum().item<double>(), 12);
        }
        using Tensor published = TotalCorrelation.LogWeights(4, 10, TcEstimator.MinibatchWeighted, ScalarType.Float64);
        Assert.Equal(-Math.Log(40), published[2, 3].item<double>(), 12);
    }

    [Fact]
    public void BadSettingsAreRefused()
    {
        using Tensor z = randn(8, 2), logPrior = randn(8);
        Assert.Throws<ArgumentOutOfRangeException>(() => TotalCorrelation.Decompose(z, z, z, logPrior, datasetSize: 4));
        Assert.Contains("needs the training set's size N", Assert.Throws<ArgumentOutOfRangeException>(() => new ObjectiveOptions(ObjectiveKind.BetaTcvae).Validate()).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ObjectiveOptions(ObjectiveKind.BetaTcvae, TcAlpha: -1, TcDatasetSize: 100).Validate());
    }

    [Theory]
    [InlineData(TcEstimator.MinibatchWeighted)]
    [InlineData(TcEstimator.MinibatchStratified)]
    public void AModelTrainsWithBetaTcvaeOnOneModelAndAskingToSplitItIsRefused(TcEstimator estimator)
    {
        using var data = TestModels.SmallShapes(96);
        var objective = new ObjectiveOptions(ObjectiveKind.BetaTcvae, Beta: 4, TcDatasetSize: data.Count, TcEstimator: estimator);
        var (model, _) = TestModels.SmallVae();
        using (var trainer = new Trainer(model, new TrainingOptions(Epochs: 2, BatchSize: 32, Seed: 4, Objective: objective)))
        {
            var history = trainer.Fit(data, data);
            Assert.All(history, h => Assert.True(double.IsFinite(h.TrainElboNats) && double.IsFinite(h.ValidationKlNats)));
            Assert.Equal(TrainingParallelism.OneModel, trainer.Strategy.Parallelism);
        }
        var error = Assert.Throws<ArgumentException>(() => new Trainer(model, new TrainingOptions(Epochs: 1, BatchSize: 32, Objective: objective, Parallelism: TrainingParallelism.SplitExamples, Threads: 2)));
        Assert.Contains("not a mean over examples", error.Message);
        model.Dispose();
    }
}
