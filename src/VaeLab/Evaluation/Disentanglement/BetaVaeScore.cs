using static TorchSharp.torch;

namespace VaeLab.Evaluation.Disentanglement;

/// <summary>The β-VAE score.</summary>
/// <param name="TrainAccuracy">The classifier's accuracy on its training examples.</param>
/// <param name="EvalAccuracy">Its accuracy on held-out examples: the score.</param>
public sealed record BetaVaeResult(double TrainAccuracy, double EvalAccuracy);

/// <summary>
/// The β-VAE disentanglement score (Higgins et al. 2017), as disentanglement_lib computes it: for a factor drawn uniformly,
/// a batch of pairs of grid points that share that factor's value (pair by pair) and are free in the others; the example is
/// the mean over the batch of |r(x₁) − r(x₂)| and its label the shared factor; a multinomial logistic regression
/// (<see cref="LogisticRegression"/>, sklearn's defaults) is trained on such examples and scored on held-out ones.
/// </summary>
public static class BetaVaeScore
{
    /// <summary>The score of a representation over its grid.</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public static BetaVaeResult Compute(GridRepresentation representation, DisentanglementOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(representation);
        options ??= new DisentanglementOptions();
        options.Validate();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)options.Seed + 2);
        var (trainFeatures, trainLabels) = Examples(representation, options.TrainVotes, options.BatchSize, generator);
        var (evalFeatures, evalLabels) = Examples(representation, options.EvalVotes, options.BatchSize, generator);
        using LogisticRegression classifier = LogisticRegression.Fit(trainFeatures, trainLabels, representation.Grid.FactorCount);
        return new BetaVaeResult(classifier.Accuracy(trainFeatures, trainLabels), classifier.Accuracy(evalFeatures, evalLabels));
    }

    static (Tensor Features, Tensor Labels) Examples(GridRepresentation representation, int count, int batchSize, Generator generator)
    {
        int factors = representation.Grid.FactorCount;
        var features = new List<Tensor>();
        var labels = new List<Tensor>();
        const int chunk = 1000;
        for (int start = 0; start < count; start += chunk)
        {
            int batches = Math.Min(chunk, count - start);
            Tensor shared = randint(0, factors, [batches], dtype: ScalarType.Int64, generator: generator);
            Tensor first = representation.Grid.Sample((long)batches * batchSize, generator).view(batches, batchSize, factors);
            Tensor second = representation.Grid.Sample((long)batches * batchSize, generator).view(batches, batchSize, factors);
            Tensor mask = nn.functional.one_hot(shared, factors).to_type(ScalarType.Bool).unsqueeze(1);   // [batches, 1, F]
            second = where(mask, first, second);
            features.Add((representation.Of(first) - representation.Of(second)).abs().mean([1]));
            labels.Add(shared);
        }
        return (cat(features, 0), cat(labels, 0));
    }
}
