using VaeLab.Models;
using VaeLab.Objectives;

namespace VaeLab.Tests.Models;

public class VariationalAutoencoderTests
{
    [Theory]
    [InlineData(Architecture.Mlp, LikelihoodKind.Bernoulli)]
    [InlineData(Architecture.Mlp, LikelihoodKind.GaussianDecoderOutput)]
    [InlineData(Architecture.Conv, LikelihoodKind.Bernoulli)]
    [InlineData(Architecture.Conv, LikelihoodKind.GaussianDecoderOutput)]
    [InlineData(Architecture.Conv, LikelihoodKind.GaussianPerPixel)]
    public void EveryArchitectureAndLikelihoodEncodesDecodesSamplesAndReconstructs(Architecture architecture, LikelihoodKind likelihood)
    {
        manual_seed(1);
        var config = new VaeConfig([1, 28, 28], LatentDimensions: 3, HiddenSizes: [16], Architecture: architecture, Likelihood: likelihood);
        using var model = config.Build();
        using var x = rand(4, 1, 28, 28);
        var (mean, logVariance) = model.EncodeDiagonal(x);
        Assert.Equal(new long[] { 4, 3 }, mean.shape);
        Assert.Equal(new long[] { 4, 3 }, logVariance.shape);
        using var output = model.Decode(mean);
        Assert.Equal(new long[] { 4, 784 * model.Likelihood.OutputsPerDimension }, output.shape);
        using var samples = model.Sample(5);
        Assert.Equal(new long[] { 5, 1, 28, 28 }, samples.shape);
        using var reconstructions = model.Reconstruct(x);
        Assert.Equal(x.shape, reconstructions.shape);
        using var terms = Elbo.Estimate(model, x);
        using var loss = terms.BetaLoss(1);
        loss.backward();
        Assert.All(model.parameters(), p => Assert.NotNull(p.grad));
    }

    [Fact]
    public void TheConvolutionalArchitectureRefusesOtherImageSizes()
    {
        var config = new VaeConfig([1, 8, 8], Architecture: Architecture.Conv);
        var error = Assert.Throws<ArgumentException>(() => config.Build());
        Assert.Contains("1×28×28", error.Message);
    }

    [Fact]
    public void TheReparameterisationHasTheEncodersMeanAndVariance()
    {
        using var generator = new Generator(8);
        using var mean = tensor(new double[] { 1.5, -2.0 }).expand(200_000, 2).contiguous();
        using var logVariance = tensor(new double[] { Math.Log(0.25), Math.Log(4) }).expand(200_000, 2).contiguous();
        using var z = VariationalAutoencoder.Reparameterize(mean, logVariance, generator);
        double[] m = z.mean([0]).data<double>().ToArray();
        double[] v = z.var(0).data<double>().ToArray();
        Assert.Equal(1.5, m[0], 1);
        Assert.Equal(-2.0, m[1], 1);
        Assert.InRange(v[0], 0.25 * 0.98, 0.25 * 1.02);
        Assert.InRange(v[1], 4 * 0.98, 4 * 1.02);
    }

    [Fact]
    public void ConfigsWithEqualSettingsAreEqualAndSignaturesNameTheArchitecture()
    {
        Assert.Equal(new VaeConfig([1, 28, 28], HiddenSizes: [400]), VaeConfig.Reference);
        using var model = VaeConfig.Reference.Build();
        Assert.Equal("mlp-encoder(784-400-20)|mlp-decoder(20-400-784)|bernoulli|input 1x28x28", model.Signature);
    }

    [Fact]
    public void AnEncoderOfItsOwnWidthsBuildsBesideTheDecoderAndIsPartOfTheConfiguration()
    {
        var larger = new VaeConfig([1, 28, 28], LatentDimensions: 50, HiddenSizes: [200, 200], EncoderHiddenSizes: [500, 500]);
        using var model = larger.Build();
        Assert.Equal("mlp-encoder(784-500-500-50)|mlp-decoder(50-200-200-784)|bernoulli|input 1x28x28", model.Signature);
        // Another encoder is another configuration; the decoder's own widths given again are the mirrored default, stored as null.
        var standard = larger with { EncoderHiddenSizes = null };
        Assert.NotEqual(standard, larger);
        Assert.Equal(standard, new VaeConfig([1, 28, 28], LatentDimensions: 50, HiddenSizes: [200, 200], EncoderHiddenSizes: [200, 200]));
        Assert.Null(new VaeConfig([1, 28, 28], HiddenSizes: [200, 200], EncoderHiddenSizes: [200, 200]).EncoderHiddenSizes);
        // The JSON a checkpoint stores round-trips, and says nothing of an encoder that mirrors the decoder.
        string json = System.Text.Json.JsonSerializer.Serialize(larger);
        Assert.Equal(larger, System.Text.Json.JsonSerializer.Deserialize<VaeConfig>(json));
        Assert.DoesNotContain("EncoderHiddenSizes", System.Text.Json.JsonSerializer.Serialize(standard));
    }

    [Fact]
    public void EncoderWidthsAreRefusedForTheConvolutionalArchitectureAndZeroWidthsEverywhere()
    {
        var conv = new VaeConfig([1, 28, 28], Architecture: Architecture.Conv, EncoderHiddenSizes: [64]);
        Assert.Contains("convolutional", Assert.Throws<ArgumentException>(() => conv.Build()).Message);
        var empty = new VaeConfig([1, 28, 28], EncoderHiddenSizes: [0]);
        Assert.Contains("at least one unit", Assert.Throws<ArgumentOutOfRangeException>(() => empty.Build()).Message);
    }
}
