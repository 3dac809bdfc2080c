using VaeLab.Data;
using VaeLab.Data.Synthetic;
using VaeLab.Models;

namespace VaeLab.Tests.Models;

public class PixelTreatmentTests
{
    static Dataset EightBit(int count = 4)
    {
        using var generator = new Generator(1);
        Tensor levels = randint(0, 256, [count, 1, 4, 4], dtype: ScalarType.Int64, generator: generator);
        return new Dataset("eight-bit", "test", levels.to_type(ScalarType.Float32).div(255), levels: 256);
    }

    [Fact]
    public void ADensityOnEightBitPixelsIsDequantisedAndCountsTheJacobian()
    {
        using Dataset data = EightBit();
        var gaussian = new GaussianLikelihood(GaussianVariance.LearnedPerDimension, 16);
        PixelTreatment treatment = PixelTreatment.Resolve(gaussian, data);
        Assert.True(treatment.Dequantize);
        Assert.True(treatment.IsProbabilityOfData);
        Assert.Equal(256, treatment.Levels);
        Assert.Equal(16 * Math.Log(256), treatment.LogJacobianNats(16), 12);
        Assert.Equal(treatment, PixelTreatment.Resolve(gaussian, data, dequantization: Dequantization.Uniform));
        var refused = Assert.Throws<ArgumentException>(() => PixelTreatment.Resolve(gaussian, data, dequantization: Dequantization.None));
        Assert.Contains("is a density", refused.Message);
        Assert.Contains("'eight-bit'", refused.Message);
        Assert.Contains("--dequantize Uniform", refused.Message);
    }

    [Fact]
    public void EachLikelihoodSaysWhatItsNumbersAre()
    {
        using Dataset eightBit = EightBit();
        using Dataset shapes = Shapes.Generate(4, 1, size: 8);   // continuous synthetic data: no levels
        var bernoulli = new BernoulliLikelihood();
        PixelTreatment grey = PixelTreatment.Resolve(bernoulli, eightBit);
        Assert.False(grey.Dequantize);
        Assert.False(grey.IsProbabilityOfData);
        Assert.Equal("grey-level cross-entropy", grey.Label);
        PixelTreatment binary = PixelTreatment.Resolve(bernoulli, eightBit, Binarization.Dynamic);
        Assert.True(binary.IsProbabilityOfData);
        Assert.Equal(2, binary.Levels);
        Assert.Contains("Dequantisation is for continuous densities", Assert.Throws<ArgumentException>(() => PixelTreatment.Resolve(bernoulli, eightBit, dequantization: Dequantization.Uniform)).Message);

        var discretized = new DiscretizedLikelihood(DiscretizedFamily.Logistic, GaussianVariance.LearnedPerDimension, 16);
        PixelTreatment mass = PixelTreatment.Resolve(discretized, eightBit);
        Assert.False(mass.Dequantize);
        Assert.True(mass.IsProbabilityOfData);
        Assert.Equal(0, mass.LogJacobianNats(16));
        Assert.Contains("continuous values", Assert.Throws<ArgumentException>(() => PixelTreatment.Resolve(discretized, shapes)).Message);
        Assert.Contains("2-level values", Assert.Throws<ArgumentException>(() => PixelTreatment.Resolve(discretized, eightBit, Binarization.Static)).Message);

        PixelTreatment continuous = PixelTreatment.Resolve(new GaussianLikelihood(GaussianVariance.Fixed, 64), shapes);
        Assert.False(continuous.Dequantize);
        Assert.False(continuous.IsProbabilityOfData);
        Assert.Equal("log density", continuous.Label);
    }

    [Fact]
    public void DequantisedValuesFillTheirLevelsBinAndRepeatForASeed()
    {
        using Dataset data = EightBit(2000);
        using var g1 = new Generator(7);
        using var g2 = new Generator(7);
        using Tensor a = PixelBins.Dequantize(data.Examples, 256, g1), b = PixelBins.Dequantize(data.Examples, 256, g2);
        Assert.True(TensorAssert.Identical(a, b));
        using Tensor level = data.Examples.mul(255).round();
        using Tensor u = a.mul(256) - level;                      // the noise within the bin
        Assert.True(u.min().item<float>() >= 0 && u.max().item<float>() < 1, "a dequantised value left its level's bin");
        Assert.InRange(u.mean().item<float>(), 0.49, 0.51);
        Assert.InRange(u.var().item<float>(), 1 / 12.0 - 0.003, 1 / 12.0 + 0.003);
        using Tensor back = PixelBins.Level(data.Examples, 256);
        Assert.True(TensorAssert.Identical(back, level));
    }
}
