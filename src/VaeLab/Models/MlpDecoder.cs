using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>A fully connected decoder: latent → hidden ReLU layers → linear output of the likelihood's parameters.</summary>
public sealed class MlpDecoder : Decoder
{
    readonly Sequential net;

    /// <summary>Creates the decoder.</summary>
    /// <param name="latentDimensions">Latent size d.</param>
    /// <param name="hiddenSizes">Widths of the hidden ReLU layers (may be empty).</param>
    /// <param name="outputDimensions">Outputs: data dimensions D times the likelihood's outputs per dimension.</param>
    public MlpDecoder(long latentDimensions, IReadOnlyList<int> hiddenSizes, long outputDimensions) : base(nameof(MlpDecoder))
    {
        LatentDimensions = latentDimensions;
        HiddenSizes = hiddenSizes.ToArray();
        OutputDimensions = outputDimensions;
        net = nn.Sequential();
        long width = HiddenLayers.Append(net, latentDimensions, HiddenSizes);
        net.append("output", nn.Linear(width, outputDimensions));
        RegisterComponents();
    }

    /// <summary>Latent size.</summary>
    public long LatentDimensions { get; }

    /// <summary>Hidden layer widths.</summary>
    public IReadOnlyList<int> HiddenSizes { get; }

    /// <summary>Number of outputs.</summary>
    public long OutputDimensions { get; }

    /// <inheritdoc />
    public override string Signature =>
        $"mlp-decoder({LatentDimensions}-{string.Join("-", HiddenSizes.Select(h => h.ToString(CultureInfo.InvariantCulture)))}-{OutputDimensions})";

    /// <inheritdoc />
    public override Tensor forward(Tensor z) => net.forward(z);

    /// <summary>The linear layers in the order the latent meets them (each but the last is followed by a ReLU).</summary>
    internal IReadOnlyList<Linear> LinearLayers => net.children().OfType<Linear>().ToArray();
}
