using VaeLab.Evaluation;
using VaeLab.Evaluation.Inference;

namespace VaeLab.Tests.Evaluation.Inference;

/// <summary>
/// The small arithmetic of what the inference-gap tools print, on hand-made values: the ones mutation testing of check 9's scope
/// (docs/derivation.md) found no check or test pinning.
/// </summary>
public class EstimateArithmeticTests
{
    static AisEstimate Ais(AisDirection direction, params double[] perExample) =>
        new(direction, new AisOptions(), 4, perExample, perExample.Select(_ => 0.01).ToArray(), 0.9, 1);

    [Fact]
    public void TheBdmcWidthIsUpperMinusLower()
    {
        var bracket = new BdmcBracket(Ais(AisDirection.Forward, -10.5, -11.5), Ais(AisDirection.Reverse, -10.25, -11.0));
        Assert.Equal(-10.625 - -11.0, bracket.WidthNats, 12);
    }

    [Fact]
    public void AFigureIsTheMeanWithTheStandardErrorOverExamplesAndSaysWhenItHasNone()
    {
        NatsWithError figure = NatsWithError.Of([1.0, 2.0, 6.0]);
        Assert.Equal(3.0, figure.Nats, 12);
        Assert.Equal(Math.Sqrt(((4 + 1 + 9) / 2.0) / 3), figure.StandardError, 12);   // sample variance 7 over n = 3
        Assert.Equal("3.00 ± 1.53", figure.ToString());
        NatsWithError single = NatsWithError.Of([-4.25]);
        Assert.Equal(-4.25, single.Nats);
        Assert.True(double.IsNaN(single.StandardError));
        Assert.Equal("-4.25 (no standard error from one example)", single.ToString());
        Assert.True(double.IsNaN(NatsWithError.Of([]).Nats));
    }

    [Fact]
    public void TheTimingsAddUp() => Assert.Equal(6.5, new GapTimings(1.5, 2, 3).Total, 12);

    [Fact]
    public void TheLogMeanExpToolsRefuseFewerThanOneSample()
    {
        using var logSum = zeros(3);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => LogMeanExp.DeltaVariance(logSum, logSum, 0)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => LogMeanExp.MaximumOfNormalsVariance(0)).ParamName);
        Assert.Equal(1.0, LogMeanExp.MaximumOfNormalsVariance(1), 9);   // the maximum of one standard normal is that normal
    }
}
