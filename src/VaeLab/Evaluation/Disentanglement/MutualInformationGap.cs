using static TorchSharp.torch;

namespace VaeLab.Evaluation.Disentanglement;

/// <summary>The Mutual Information Gap and the mutual information matrix behind it.</summary>
/// <param name="Mig">MIG: the mean over factors of (largest − second largest MI with one latent) / H(factor); in [0, 1].</param>
/// <param name="MutualInformationNats">I(latent j; factor k) of the discretised codes, nats, [latent][factor].</param>
/// <param name="FactorEntropyNats">H(factor k) of the drawn points, nats.</param>
/// <param name="GapPerFactor">Each factor's normalised gap.</param>
public sealed record MigResult(double Mig, double[][] MutualInformationNats, double[] FactorEntropyNats, double[] GapPerFactor)
{
    /// <summary>For each factor, the latent that carries the most information about it.</summary>
    public int[] BestLatentPerFactor() => Enumerable.Range(0, FactorEntropyNats.Length)
        .Select(k => Enumerable.Range(0, MutualInformationNats.Length).MaxBy(j => MutualInformationNats[j][k])).ToArray();
}

/// <summary>
/// The Mutual Information Gap (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs"), computed as
/// disentanglement_lib does: codes of uniformly drawn grid points, each latent discretised into equal-width bins over its
/// range (numpy's histogram edges and digitize), the discrete mutual information (sklearn's mutual_info_score, nats) of every
/// latent with every factor, divided by the factor's entropy; the gap between the two most informative latents, averaged.
/// </summary>
public static class MutualInformationGap
{
    /// <summary>MIG of a representation over its grid.</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public static MigResult Compute(GridRepresentation representation, DisentanglementOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(representation);
        options ??= new DisentanglementOptions();
        options.Validate();
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)options.Seed);
        Tensor points = representation.Grid.Sample(options.MigPoints, generator);
        double[] codes = representation.Of(points).contiguous().data<double>().ToArray();
        long[] factors = points.contiguous().data<long>().ToArray();
        int n = options.MigPoints, d = representation.Dimensions, f = representation.Grid.FactorCount;

        int[][] latentBins = Enumerable.Range(0, d).Select(j => Discretize(Enumerable.Range(0, n).Select(i => codes[i * d + j]).ToArray(), options.MigBins)).ToArray();
        int[][] factorValues = Enumerable.Range(0, f).Select(k => Enumerable.Range(0, n).Select(i => (int)factors[i * f + k]).ToArray()).ToArray();
        double[][] mi = latentBins.Select(bins => factorValues.Select(values => MutualInformation(bins, values)).ToArray()).ToArray();
        double[] entropy = factorValues.Select(values => MutualInformation(values, values)).ToArray();
        double[] gaps = new double[f];
        for (int k = 0; k < f; k++)
        {
            double[] sorted = mi.Select(row => row[k]).OrderByDescending(v => v).ToArray();
            double second = sorted.Length > 1 ? sorted[1] : 0;   // one latent: nothing to compete with
            gaps[k] = entropy[k] > 0 ? (sorted[0] - second) / entropy[k] : 0;
        }
        return new MigResult(gaps.Average(), mi, entropy, gaps);
    }

    /// <summary>
    /// numpy's <c>digitize(x, histogram(x, bins)[1][:-1])</c> − 1: equal-width bins between the minimum and the maximum, the
    /// maximum in the last bin; a constant column (numpy widens its range by ±0.5) lands in one bin.
    /// </summary>
    public static int[] Discretize(double[] values, int bins)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), bins, "At least one bin.");
        if (values.Length == 0) return [];
        double low = values.Min(), high = values.Max();
        if (low == high) { low -= 0.5; high += 0.5; }
        double step = (high - low) / bins;
        double[] edges = Enumerable.Range(0, bins).Select(i => low + i * step).ToArray();   // the left edges, as linspace computes them
        return values.Select(v =>
        {
            int index = Array.BinarySearch(edges, v);
            int count = index >= 0 ? LastEqual(edges, index) + 1 : ~index;   // number of left edges ≤ v
            return count - 1;
        }).ToArray();
    }

    static int LastEqual(double[] edges, int index)
    {
        while (index + 1 < edges.Length && edges[index + 1] == edges[index]) index++;
        return index;
    }

    /// <summary>Mutual information of two discrete label sequences from their contingency table, nats (sklearn's mutual_info_score).</summary>
    /// <exception cref="ArgumentException">Sequences of different lengths.</exception>
    public static double MutualInformation(int[] a, int[] b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Length != b.Length) throw new ArgumentException($"Label sequences of {a.Length} and {b.Length} entries.", nameof(b));
        int n = a.Length;
        if (n == 0) return 0;
        var joint = new Dictionary<(int, int), int>();
        var left = new Dictionary<int, int>();
        var right = new Dictionary<int, int>();
        for (int i = 0; i < n; i++)
        {
            joint[(a[i], b[i])] = joint.GetValueOrDefault((a[i], b[i])) + 1;
            left[a[i]] = left.GetValueOrDefault(a[i]) + 1;
            right[b[i]] = right.GetValueOrDefault(b[i]) + 1;
        }
        double mi = 0;
        foreach (var ((x, y), count) in joint)
            mi += (double)count / n * Math.Log((double)count * n / ((double)left[x] * right[y]));
        return Math.Max(mi, 0);   // sklearn clips round-off below zero too
    }
}
