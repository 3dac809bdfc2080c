namespace VaeLab.Models;

/// <summary>How a Gaussian decoder gets its standard deviation σ.</summary>
public enum GaussianVariance
{
    /// <summary>A fixed σ, chosen by the user (σ = 1 turns −log p(x|z) into ½‖x − μ‖² plus a constant).</summary>
    Fixed,

    /// <summary>One learned σ shared by all dimensions.</summary>
    LearnedShared,

    /// <summary>One learned σ per dimension (pixel), the same for every input.</summary>
    LearnedPerDimension,

    /// <summary>σ output by the decoder network for each input and dimension (heteroscedastic).</summary>
    DecoderOutput,
}
