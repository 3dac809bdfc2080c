namespace VaeLab.Evaluation.Inference;

/// <summary>
/// The inverse temperatures 0 = β_0 &lt; β_1 &lt; … &lt; β_T = 1 of the geometric path f_t(z) = p(z) p(x|z)^{β_t} that AIS follows from
/// the prior to the unnormalised posterior. The sigmoid schedule (Grosse et al. 2015; Wu et al. 2017) spends more
/// distributions near both ends, where the path changes fastest, than a linear one.
/// </summary>
public static class AnnealingSchedule
{
    /// <summary>β_0 … β_T for T = <paramref name="distributions"/>: σ(δ(2t/T − 1)) rescaled so β_0 = 0 and β_T = 1 exactly.</summary>
    /// <exception cref="ArgumentOutOfRangeException">T below 1 or δ not positive.</exception>
    public static double[] Sigmoid(int distributions, double radius = 4)
    {
        if (distributions < 1) throw new ArgumentOutOfRangeException(nameof(distributions), distributions, "At least one intermediate distribution.");
        if (!(radius > 0)) throw new ArgumentOutOfRangeException(nameof(radius), radius, "The radius must be positive.");
        static double Logistic(double u) => 1 / (1 + Math.Exp(-u));
        double low = Logistic(-radius), high = Logistic(radius);
        var betas = new double[distributions + 1];
        for (int t = 0; t <= distributions; t++)
            betas[t] = (Logistic(radius * (2.0 * t / distributions - 1)) - low) / (high - low);
        betas[0] = 0;
        betas[distributions] = 1;
        return betas;
    }
}
