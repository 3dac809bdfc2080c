using VaeLab.Evaluation.Disentanglement;

namespace VaeLab.Tests.Evaluation.Disentanglement;

/// <summary>
/// The building blocks against numbers printed by the libraries disentanglement_lib calls (Debian's python3-sklearn 1.2.1,
/// numpy 1.24), for the inputs written the same way in both languages:
/// <code>
/// i = np.arange(60); y = i % 3
/// x = np.stack([np.sin(0.7*i) + 0.8*(y==1), np.cos(1.3*i)*0.5 + 0.6*(y==2), 0.01*i], 1)
/// m = LogisticRegression(C=1.0, multi_class='multinomial', tol=1e-12, max_iter=10000).fit(x, y)   # coef_, intercept_, score
/// v = np.array([np.sin(0.37*k)*3 + 0.1*k for k in range(50)]); d = np.digitize(v, np.histogram(v, 5)[1][:-1])
/// mutual_info_score(np.arange(50) % 4, d); mutual_info_score(f, f)
/// </code>
/// sklearn's lbfgs stops at a gradient of 2.3e-4 here (its coefficients are within 1e-4 of the optimum); the reference
/// optimum is scipy's BFGS on the same objective, C·Σ CE + ½‖W‖², run to a gradient of 1.3e-8.
/// </summary>
public class ReferenceImplementationTests
{
    [Fact]
    public void LogisticRegressionFindsSklearnsOptimum()
    {
        int n = 60;
        var rows = Enumerable.Range(0, n).Select(i => new[]
        {
            Math.Sin(0.7 * i) + (i % 3 == 1 ? 0.8 : 0), Math.Cos(1.3 * i) * 0.5 + (i % 3 == 2 ? 0.6 : 0), 0.01 * i,
        }).ToArray();
        using Tensor x = tensor(rows.SelectMany(r => r).ToArray()).view(n, 3);
        using Tensor y = tensor(Enumerable.Range(0, n).Select(i => (long)(i % 3)).ToArray());
        using LogisticRegression model = LogisticRegression.Fit(x, y, classes: 3);
        double[][] optimum =
        [
            [-0.4749197835870513, -0.9868449192676756, -0.10686967482110789],
            [0.8719460391272954, -0.7723091805050276, 0.04528062769563824],
            [-0.3970262555402443, 1.7591540997727035, 0.06158904712546935],
        ];
        double[] optimumIntercept = [0.5007038517397843, -0.16600849049472147, -0.33469536124508276];
        double[][] sklearn =
        [
            [-0.474931601304096, -0.9868966827040946, -0.10692448812310248],
            [0.8719446927502982, -0.7722461893044736, 0.04538544729265512],
            [-0.3970130914462027, 1.7591428720085682, 0.06153904083044732],
        ];
        for (int k = 0; k < 3; k++)
        {
            for (int d = 0; d < 3; d++)
            {
                Assert.Equal(optimum[k][d], model.Weights[k][d], 7);
                Assert.InRange(model.Weights[k][d] - sklearn[k][d], -1.5e-4, 1.5e-4);
            }
            Assert.Equal(optimumIntercept[k], model.Intercepts[k], 7);
        }
        Assert.Equal(0.5833333333333334, model.Accuracy(x, y), 12);
        Assert.True(model.GradientNorm < 1e-6, $"gradient {model.GradientNorm} at the fit");
    }

    [Fact]
    public void DiscretisationAndMutualInformationMatchNumpyAndSklearn()
    {
        double[] v = Enumerable.Range(0, 50).Select(k => Math.Sin(0.37 * k) * 3 + 0.1 * k).ToArray();
        int[] numpy = [1, 2, 3, 3, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, 3, 3, 4, 4, 4, 4, 4, 4, 3, 3, 2, 2, 1, 2, 2, 2, 3, 4, 4, 5, 5, 5, 5, 5, 5, 4, 4, 3, 3, 2, 3, 3, 3];
        int[] bins = MutualInformationGap.Discretize(v, 5);
        Assert.Equal(numpy.Select(b => b - 1), bins);
        int[] f = Enumerable.Range(0, 50).Select(k => k % 4).ToArray();
        Assert.Equal(0.052240803519796375, MutualInformationGap.MutualInformation(f, bins), 14);
        Assert.Equal(1.3854941476499067, MutualInformationGap.MutualInformation(f, f), 14);
        // Symmetric, and invariant to relabelling either side.
        Assert.Equal(MutualInformationGap.MutualInformation(bins, f), MutualInformationGap.MutualInformation(f, bins), 14);
        Assert.Equal(MutualInformationGap.MutualInformation(f, bins), MutualInformationGap.MutualInformation(f.Select(k => 7 - 2 * k).ToArray(), bins), 14);
        // A constant column falls in one bin and carries nothing.
        Assert.All(MutualInformationGap.Discretize([2.5, 2.5, 2.5], 20), b => Assert.Equal(b, MutualInformationGap.Discretize([2.5], 20)[0]));
        Assert.Equal(0, MutualInformationGap.MutualInformation([0, 1, 2, 3], [4, 4, 4, 4]));
    }
}
