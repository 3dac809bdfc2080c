namespace VaeLab.Derivation.References;

/// <summary>
/// The posterior families' maps written another way, for the reference side of check 10: plain float64 loops over the
/// definitions, with no tensor code and nothing from <c>VaeLab.Models.Posteriors</c> but the weights read out of it.
/// </summary>
public static class ReferenceFlows
{
    /// <summary>
    /// A planar layer (Rezende and Mohamed 2015, appendix A.1) at one point: û = u + (−1 + log(1 + e^(wᵀu)) − wᵀu) w / ‖w‖²,
    /// f(z) = z + û tanh(wᵀz + b).
    /// </summary>
    public static double[] Planar(double[] z, double[] u, double[] w, double b)
    {
        int d = z.Length;
        double wu = 0, ww = 0, wz = b;
        for (int i = 0; i < d; i++) { wu += w[i] * u[i]; ww += w[i] * w[i]; wz += w[i] * z[i]; }
        double m = -1 + (wu > 30 ? wu : Math.Log(1 + Math.Exp(wu)));
        var output = new double[d];
        for (int i = 0; i < d; i++) output[i] = z[i] + (u[i] + (m - wu) * w[i] / ww) * Math.Tanh(wz);
        return output;
    }

    /// <summary>
    /// An inverse autoregressive layer (Kingma et al. 2016) at one point, with a MADE whose hidden unit k has degree k mod d and
    /// whose coordinate i has as degree its 1-based place in the order (0, …, d−1, or reversed): unit k sees z_i iff place(i) ≤ k mod d,
    /// output j sees unit k iff k mod d &lt; place(j). Hidden units are ELU; (m, s) = W₂ h + b₂; z'_j = σ_j z_j + (1 − σ_j) m_j, σ = sigmoid(s).
    /// Weights row-major: W₁ [H, d], C [H, c], b₁ [H], W₂ [2d, H], b₂ [2d]. Returns z' and Σ_j log σ_j.
    /// </summary>
    public static (double[] Z, double LogDeterminant) InverseAutoregressive(double[] z, double[] context, bool reversed,
        double[] inputWeight, double[] contextWeight, double[] hiddenBias, double[] outputWeight, double[] outputBias)
    {
        int d = z.Length, c = context.Length, h = hiddenBias.Length;
        int Place(int i) => reversed ? d - i : i + 1;
        var hidden = new double[h];
        for (int k = 0; k < h; k++)
        {
            double sum = hiddenBias[k];
            for (int i = 0; i < d; i++)
                if (Place(i) <= k % d) sum += inputWeight[k * d + i] * z[i];
            for (int i = 0; i < c; i++) sum += contextWeight[k * c + i] * context[i];
            hidden[k] = sum > 0 ? sum : Math.Exp(sum) - 1;
        }
        var output = new double[d];
        double logDeterminant = 0;
        for (int j = 0; j < d; j++)
        {
            double shift = outputBias[j], gateLogit = outputBias[d + j];
            for (int k = 0; k < h; k++)
                if (k % d < Place(j))
                {
                    shift += outputWeight[j * h + k] * hidden[k];
                    gateLogit += outputWeight[(d + j) * h + k] * hidden[k];
                }
            double gate = 1 / (1 + Math.Exp(-gateLogit));
            output[j] = gate * z[j] + (1 - gate) * shift;
            logDeterminant += Math.Log(gate);
        }
        return (output, logDeterminant);
    }
}
