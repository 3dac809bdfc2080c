using VaeLab.Evaluation;
using VaeLab.Evaluation.Inference;
using VaeLab.Models;
using static TorchSharp.torch;
using VaeLab.Derivation.References;

namespace VaeLab.Tests.Evaluation.Inference;

/// <summary>AIS and BDMC against exact values of a small linear-Gaussian VAE, and on trained nonlinear models of any likelihood.</summary>
public class AnnealedImportanceSamplingTests
{
    static (LinearGaussianModel Model, VariationalAutoencoder Vae, Tensor X, Tensor Z) Linear(long seed = 3)
    {
        var model = LinearGaussianModel.Random(60, 4, sigma: 0.4, seed, weightScale: 0.3);
        using var generator = new Generator((ulong)seed + 10);
        var (x, z) = model.Sample(12, generator);
        return (model, model.MeanFieldVariationalAutoencoder(), x, z);
    }

    [Fact]
    public void ForwardMeetsTheExactLogMarginalAndReverseLiesAboveIt()
    {
        var (model, vae, x, z) = Linear();
        using var generator = new Generator(1);
        var options = new AisOptions(Distributions: 200, Chains: 16, LeapfrogSteps: 5);
        AisEstimate forward = AnnealedImportanceSampling.Forward(vae, x, options, generator);
        AisEstimate reverse = AnnealedImportanceSampling.Reverse(vae, x, z, options, generator);
        double exact = model.LogMarginal(x).mean().item<double>();
        Assert.Equal(12, forward.Examples);
        Assert.Equal(AisDirection.Forward, forward.Direction);
        Assert.Equal(AisDirection.Reverse, reverse.Direction);
        Assert.InRange(forward.LogLikelihoodNats, exact - 3 * forward.MonteCarloStandardError - 0.05, exact + 3 * forward.MonteCarloStandardError);
        Assert.True(reverse.LogLikelihoodNats >= exact - 3 * reverse.MonteCarloStandardError, $"reverse {reverse.LogLikelihoodNats} below exact {exact}");
        Assert.InRange(forward.MeanAcceptance, 0.45, 0.95);
        // Per example, too: every forward estimate within 5 of its own standard errors (or 0.3 nats) of the exact value.
        double[] perExample = model.LogMarginal(x).data<double>().ToArray();
        for (int i = 0; i < perExample.Length; i++)
            Assert.True(Math.Abs(forward.PerExampleNats[i] - perExample[i]) < Math.Max(5 * Math.Sqrt(forward.PerExampleVariance[i]), 0.3), $"example {i}: {forward.PerExampleNats[i]} vs {perExample[i]}");
    }

    [Fact]
    public void FewDistributionsGiveALooseLowerBoundAndAWideBracket()
    {
        var (model, vae, x, z) = Linear();
        using var generator = new Generator(2);
        double exact = model.LogMarginal(x).mean().item<double>();
        BdmcBracket coarse = BidirectionalMonteCarlo.Run(vae, x, z, new AisOptions(Distributions: 3, Chains: 8, LeapfrogSteps: 2), generator);
        BdmcBracket fine = BidirectionalMonteCarlo.Run(vae, x, z, new AisOptions(Distributions: 200, Chains: 8, LeapfrogSteps: 5), generator);
        Assert.True(coarse.Lower.LogLikelihoodNats < exact - 1, $"3 distributions should be loose: {coarse.Lower.LogLikelihoodNats} vs {exact}");
        Assert.True(coarse.Upper.LogLikelihoodNats > exact + 1, $"3 distributions should be loose above too: {coarse.Upper.LogLikelihoodNats} vs {exact}");
        Assert.True(fine.WidthNats < coarse.WidthNats / 5, $"bracket {fine.WidthNats} vs {coarse.WidthNats}");
        Assert.True(fine.WidthNats > -0.3);
    }

    [Fact]
    public void IsDeterministicForASeed()
    {
        var (_, vae, x, _) = Linear();
        var options = new AisOptions(Distributions: 20, Chains: 4, LeapfrogSteps: 3, RowsPerBatch: 16);
        using var first = new Generator(9);
        using var second = new Generator(9);
        double[] a = AnnealedImportanceSampling.Forward(vae, x, options, first).PerExampleNats;
        double[] b = AnnealedImportanceSampling.Forward(vae, x, options, second).PerExampleNats;
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(LikelihoodKind.Bernoulli)]
    [InlineData(LikelihoodKind.GaussianPerPixel)]
    [InlineData(LikelihoodKind.DiscretizedLogistic)]
    public void OnATrainedModelOfAnyLikelihoodAisIsAtLeastTheElbo(LikelihoodKind likelihood)
    {
        var (model, config) = TestModels.SmallVae(likelihood: likelihood);
        using var data = TestModels.SmallShapes(512);
        using var eightBit = likelihood == LikelihoodKind.Bernoulli ? null : EightBitShapes(data);
        var train = eightBit ?? data;
        using (var trainer = new VaeLab.Training.Trainer(model, new VaeLab.Training.TrainingOptions(Epochs: 3, BatchSize: 64, LearningRate: 3e-3, Seed: 1)))
            trainer.Fit(train);
        using var test = train.Subset(arange(16));
        ElboSummary elbo = Evaluator.TestElbo(model, test, seed: 1, samples: 200);
        AisEstimate ais = AnnealedImportanceSampling.Estimate(model, test, new AisOptions(Distributions: 100, Chains: 8, LeapfrogSteps: 5), seed: 1);
        Assert.True(double.IsFinite(ais.LogLikelihoodNats));
        Assert.True(ais.LogLikelihoodNats >= elbo.ElboNats - 3 * ais.MonteCarloStandardError - 0.5, $"AIS {ais.LogLikelihoodNats} vs ELBO {elbo.ElboNats}");
        if (likelihood != LikelihoodKind.Bernoulli) Assert.True(ais.LogLikelihoodNats < 0, "a probability of an 8-bit image (or a bound on it) is below 1");
    }

    static VaeLab.Data.Dataset EightBitShapes(VaeLab.Data.Dataset binary) =>
        new("8-bit shapes", "test", binary.Examples.mul(200).add(20).round().div(255), levels: 256);

    [Fact]
    public void RefusesSettingsOutOfRangeAndMismatchedLatents()
    {
        var (_, vae, x, z) = Linear();
        Assert.Equal("Chains", Assert.Throws<ArgumentOutOfRangeException>(() => AnnealedImportanceSampling.Forward(vae, x, new AisOptions(Chains: 0))).ParamName);
        Assert.Equal("LeapfrogSteps", Assert.Throws<ArgumentOutOfRangeException>(() => AnnealedImportanceSampling.Forward(vae, x, new AisOptions(LeapfrogSteps: -1))).ParamName);
        Assert.Equal("Distributions", Assert.Throws<ArgumentOutOfRangeException>(() => AnnealedImportanceSampling.Forward(vae, x, new AisOptions(Distributions: 0))).ParamName);
        Assert.Throws<ArgumentException>(() => AnnealedImportanceSampling.Reverse(vae, x, z[.., ..2], new AisOptions(Distributions: 5)));
    }
}
