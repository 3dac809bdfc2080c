using VaeLab.Evaluation.Inference;
using VaeLab.Models;
using VaeLab.Objectives;
using static TorchSharp.torch;
using VaeLab.Derivation.References;

namespace VaeLab.Tests.Evaluation.Inference;

public class LocalPosteriorTests
{
    [Fact]
    public void TheFittedQReachesTheMeanFieldOptimumFromABadStart()
    {
        using var model = LinearGaussianModel.Random(60, 4, sigma: 0.4, seed: 5, weightScale: 0.3);
        using var generator = new Generator(3);
        var (x, _) = model.Sample(10, generator);
        VariationalAutoencoder optimum = model.MeanFieldVariationalAutoencoder();
        var (m, v) = optimum.EncodeDiagonal(x);
        Tensor start = m.detach().add(1), startLogVariance = v.detach().sub(2);
        var (fitted, fittedLogVariance, steps) = LocalPosterior.Fit(optimum, x, start, startLogVariance, new LocalPosteriorOptions(Tolerance: 0.001), generator);
        Assert.InRange(steps, 100, 3000);
        double best = (model.ExpectedLogLikelihood(x, m, v) - GaussianKl.ToStandardNormal(m, v)).mean().item<double>();
        double reached = (model.ExpectedLogLikelihood(x, fitted, fittedLogVariance) - GaussianKl.ToStandardNormal(fitted, fittedLogVariance)).mean().item<double>();
        double started = (model.ExpectedLogLikelihood(x, start, startLogVariance) - GaussianKl.ToStandardNormal(start, startLogVariance)).mean().item<double>();
        Assert.True(started < best - 5, $"the start should be poor: {started} vs {best}");
        Assert.InRange(reached, best - 0.05, best + 1e-9);
        Assert.True((fitted - m).abs().max().item<double>() < 0.1);
    }

    [Fact]
    public void ZeroStepsKeepTheEncodersQAndScoreMatchesTheClosedForm()
    {
        using var model = LinearGaussianModel.Random(60, 4, sigma: 0.4, seed: 6, weightScale: 0.3);
        using var generator = new Generator(4);
        var (x, _) = model.Sample(6, generator);
        VariationalAutoencoder vae = model.MeanFieldVariationalAutoencoder();
        var (m, v) = vae.EncodeDiagonal(x);
        var (same, steps) = LocalPosterior.Fit(vae, x, new LocalPosteriorOptions(MaxSteps: 0), generator);
        Assert.Equal(0, steps);
        Assert.Equal(0, (same.narrow(1, 0, 4) - m).abs().max().item<double>());
        Assert.Equal(0, (same.narrow(1, 4, 4) - v).abs().max().item<double>());
        var (score, variance) = LocalPosterior.Score(vae, x, m, v, 4000, generator);
        Tensor closed = model.ExpectedLogLikelihood(x, m, v) - GaussianKl.ToStandardNormal(m, v);
        Tensor z = (score - closed).abs() / variance.sqrt();
        Assert.True(z.max().item<double>() < 4.5, $"worst standard score {z.max().item<double>()}");
        // The variance of the mean falls as 1/samples.
        var (_, fewer) = LocalPosterior.Score(vae, x, m, v, 400, generator);
        double ratio = fewer.mean().item<double>() / variance.mean().item<double>();
        Assert.InRange(ratio, 7, 14);
    }

    [Fact]
    public void RefusesSettingsOutOfRange()
    {
        Assert.Equal("SamplesPerStep", Assert.Throws<ArgumentOutOfRangeException>(() => new LocalPosteriorOptions(SamplesPerStep: 0).Validate()).ParamName);
        Assert.Equal("MaxSteps", Assert.Throws<ArgumentOutOfRangeException>(() => new LocalPosteriorOptions(MaxSteps: -1).Validate()).ParamName);
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => new LocalPosteriorOptions(LearningRate: double.NaN).Validate()).ParamName);
        Assert.Equal("EvaluationSamples", Assert.Throws<ArgumentOutOfRangeException>(() => new LocalPosteriorOptions(EvaluationSamples: 1).Validate()).ParamName);
    }
}
