using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// A small convolutional decoder for 28×28 images, the mirror of <see cref="ConvEncoder"/>: latent → 256 →
/// 64×7×7 → two stride-2 4×4 transposed convolutions (7 → 14 → 28). Outputs [N, k·784] with the k parameter
/// maps one after another (all means, then all log σ when the likelihood needs both).
/// </summary>
public sealed class ConvDecoder : Decoder
{
    readonly Sequential net;

    /// <summary>Creates the decoder with <paramref name="outputsPerPixel"/> output maps.</summary>
    public ConvDecoder(long latentDimensions, int outputsPerPixel = 1) : base(nameof(ConvDecoder))
    {
        LatentDimensions = latentDimensions;
        OutputsPerPixel = outputsPerPixel;
        net = nn.Sequential(
            ("linear0", nn.Linear(latentDimensions, 256)),
            ("relu0", nn.ReLU()),
            ("linear1", nn.Linear(256, 64 * 7 * 7)),
            ("relu1", nn.ReLU()),
            ("unflatten", nn.Unflatten(1, new long[] { 64, 7, 7 })),
            ("deconv0", nn.ConvTranspose2d(64, 32, 4, stride: 2, padding: 1)),
            ("relu2", nn.ReLU()),
            ("deconv1", nn.ConvTranspose2d(32, outputsPerPixel, 4, stride: 2, padding: 1)),
            ("flatten", nn.Flatten()));
        RegisterComponents();
    }

    /// <summary>Latent size.</summary>
    public long LatentDimensions { get; }

    /// <summary>Output maps per pixel.</summary>
    public int OutputsPerPixel { get; }

    /// <inheritdoc />
    public override string Signature => $"conv-decoder({LatentDimensions}-256-64x7x7-32-{OutputsPerPixel}x28x28)";

    /// <inheritdoc />
    public override Tensor forward(Tensor z) => net.forward(z);
}
