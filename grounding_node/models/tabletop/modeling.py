"""TabletopGrounder: find objects without the text, then let the text pick among them.

1. A small CNN (stride 8) predicts, per cell, an object-centre heatmap, the box size and the sub-cell
   offset (CenterNet-style), class-agnostic: candidates do not depend on the phrase.
2. Each candidate becomes a token: the CNN feature at its centre plus its box (cx, cy, w, h), with
   auxiliary colour/shape/size heads that force the token to encode the attributes phrases talk about.
   With `roi_pool` > 0 the token also gets an RxR grid of stride-4 features sampled over the candidate's
   box: one stride-8 cell saw too little of a far or top-down object to tell a can from a ball (the shape
   head was right on 75% of detected objects).
3. A transformer encoder over [text tokens; candidate tokens] relates the phrase to the candidates.
4. A soft-counting layer makes orders explicit: the text picks a soft class filter per candidate, and each
   candidate counts how many filtered candidates lie left/right of it, nearer/farther (lower/higher box
   bottom in the image), larger/smaller. Ordinals ("second from the left") and extremes ("the nearest
   ball") become "count == k", which attention alone learned poorly (its average cannot count).
   With `depth_tokens` the token also gets what aligned depth measures about the box (its depth along the
   optical axis and its metric width and height, `processing.depth_features`): from colour alone a large
   far mug and a small near one look the same, and phrases with size words ("the big cube", "not the small
   one") missed most often (8.8% against 3.3% overall). A frame without depth passes zeros, which training
   shows the model a quarter of the time, so the same checkpoint grounds colour-only frames.
5. A head scores every candidate as a referent (independent sigmoids: several for plurals, none for a
   phrase naming something absent).
The image is encoded once per frame; all phrases of a command share it (batched over phrases).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

DEPTH_FEATURES = 4   # valid flag, log depth, log metric width, log metric height (processing.depth_features)


@dataclass
class TabletopConfig:
    vocab: List[str] = field(default_factory=list)   # index 0 = <pad>, 1 = <unk>
    image_size: Tuple[int, int] = (320, 240)          # network input (width, height)
    stride: int = 8
    channels: Tuple[int, ...] = (24, 32, 48, 64, 96)
    d_model: int = 96
    n_heads: int = 4
    n_layers: int = 3
    max_words: int = 16
    n_colors: int = 8
    n_shapes: int = 5
    n_sizes: int = 2
    roi_pool: int = 0     # R > 0: add R x R stride-4 features pooled over each box to its token (0: older models)
    depth_tokens: bool = False   # add each box's measured depth and metric size to its token (aligned depth)
    crop_size: int = 0    # S > 0: add an S x S crop of each box, cut from the camera's frame, to its token
    deep_roi: int = 0     # R > 0: add R x R stride-8 (deep) features pooled over each box to its token

    def to_dict(self) -> Dict:
        return asdict(self)


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Backbone(nn.Module):
    """320x240 -> 40x30 features; dilated last layers widen the context (table edges, neighbours)."""

    def __init__(self, c: Tuple[int, ...]) -> None:
        super().__init__()
        self.net = nn.Sequential(
            _conv(3, c[0], 2), _conv(c[0], c[1], 2), _conv(c[1], c[2]), _conv(c[2], c[2]),
            _conv(c[2], c[3], 2), _conv(c[3], c[4]), _conv(c[4], c[4], dilation=2), _conv(c[4], c[4], dilation=4),
        )

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """-> (stride-8 features, stride-4 features after the first two layers)."""
        fine = self.net[:2](x)
        return self.net[2:](fine), fine


def roi_grid(fine: torch.Tensor, boxes: torch.Tensor, r: int) -> torch.Tensor:
    """fine (B,C,H,W); boxes (B,K,4) normalised cx, cy, w, h -> (B,K,C*r*r) features bilinearly sampled at
    the centres of an r x r grid of bins over each box (RoIAlign with one sample per bin)."""
    b, k = boxes.shape[:2]
    u = (torch.arange(r, device=boxes.device, dtype=boxes.dtype) + 0.5) / r - 0.5          # (r,)
    xs = boxes[..., 0:1] + u * boxes[..., 2:3]                                            # (B,K,r)
    ys = boxes[..., 1:2] + u * boxes[..., 3:4]
    grid = torch.stack(torch.broadcast_tensors(xs[:, :, None, :], ys[:, :, :, None]), dim=-1)   # (B,K,r,r,2)
    grid = (grid * 2 - 1).reshape(b, k * r, r, 2).to(fine.dtype)
    out = torch.nn.functional.grid_sample(fine, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.reshape(b, -1, k, r, r).permute(0, 2, 1, 3, 4).flatten(2)                  # (B,K,C*r*r)


def box_features(boxes: torch.Tensor, n_freq: int = 4) -> torch.Tensor:
    """(…,4) normalised cx, cy, w, h -> the box plus Fourier features of its centre (precise comparisons)."""
    freqs = (2.0 ** torch.arange(n_freq, dtype=boxes.dtype, device=boxes.device)) * torch.pi
    ang = boxes[..., :2, None] * freqs                                      # (…,2,F)
    return torch.cat([boxes, ang.sin().flatten(-2), ang.cos().flatten(-2)], dim=-1)


class SoftCounter(nn.Module):
    """Per candidate i and key k: soft counts of filtered candidates j with key_j < key_i and key_j > key_i."""

    def __init__(self, d: int, n_filters: int = 2, max_count: int = 4, tau: float = 0.02) -> None:
        super().__init__()
        self.filter = nn.Linear(d, n_filters)
        self.tau = tau
        self.register_buffer("centres", torch.arange(max_count + 1, dtype=torch.float32), persistent=False)

    def forward(self, h: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """h (P,K,d), keys (P,K,nk), mask (P,K) -> (P,K, 2*n_filters*nk*(max_count+1)) count encodings."""
        f = torch.sigmoid(self.filter(h)) * mask[..., None]                 # (P,K,F)
        diff = keys[:, None, :, :] - keys[:, :, None, :]                     # (P,i,j,nk): key_j - key_i
        below = torch.sigmoid(-diff / self.tau)                              # key_j < key_i
        above = torch.sigmoid(diff / self.tau)
        eye = torch.eye(keys.shape[1], device=keys.device, dtype=keys.dtype)[None, :, :, None]
        below, above = below * (1 - eye), above * (1 - eye)
        c_below = torch.einsum("pijk,pjf->pikf", below, f)                   # (P,K,nk,F)
        c_above = torch.einsum("pijk,pjf->pikf", above, f)
        counts = torch.stack([c_below, c_above], dim=-1).flatten(2)          # (P,K,nk*F*2)
        enc = torch.exp(-((counts[..., None] - self.centres) ** 2) / 0.5)    # RBF at 0..max_count
        return enc.flatten(2)


class CropEncoder(nn.Module):
    """(N,3,S,S) box crops from the camera's frame -> (N, 64 * (S/8)^2): three stride-2 convolutions and
    one more, flattened so where a handle or an edge sits in the crop stays readable."""

    def __init__(self, size: int) -> None:
        super().__init__()
        if size % 8:
            raise ValueError(f"crop_size must be a multiple of 8, not {size}")
        self.net = nn.Sequential(_conv(3, 16, 2), _conv(16, 32, 2), _conv(32, 64, 2), _conv(64, 64))
        self.out_dim = 64 * (size // 8) ** 2

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return self.net(crops).flatten(1)


class TabletopGrounder(nn.Module):
    def __init__(self, config: TabletopConfig) -> None:
        super().__init__()
        self.config = config
        c, d = config.channels[-1], config.d_model
        self.backbone = Backbone(config.channels)
        self.det_head = nn.Sequential(_conv(c, c), nn.Conv2d(c, 1 + 2 + 2, 1))   # heat, wh, offset
        self.det_head[-1].bias.data[0] = -2.2                                      # prior ~0.1
        self.cand_proj = nn.Linear(c + 4 + 16, d)
        if config.roi_pool:
            r = config.roi_pool
            self.roi_proj = nn.Linear(config.channels[1] * r * r, d)
            nn.init.zeros_(self.roi_proj.weight)   # added to a trained model, it starts as a no-op
            nn.init.zeros_(self.roi_proj.bias)
        if config.depth_tokens:
            self.depth_proj = nn.Linear(DEPTH_FEATURES, d)
            nn.init.zeros_(self.depth_proj.weight)   # as for roi_proj: a no-op until trained
            nn.init.zeros_(self.depth_proj.bias)
        if config.deep_roi:
            r = config.deep_roi
            self.deep_roi_proj = nn.Linear(c * r * r, d)
            nn.init.zeros_(self.deep_roi_proj.weight)   # as for roi_proj: a no-op until trained
            nn.init.zeros_(self.deep_roi_proj.bias)
        if config.crop_size:
            self.crop_net = CropEncoder(config.crop_size)
            self.crop_proj = nn.Linear(self.crop_net.out_dim, d)
            nn.init.zeros_(self.crop_proj.weight)   # as for roi_proj: a no-op until trained
            nn.init.zeros_(self.crop_proj.bias)
        self.attr_color = nn.Linear(d, config.n_colors)
        self.attr_shape = nn.Linear(d, config.n_shapes)
        self.attr_size = nn.Linear(d, config.n_sizes)
        self.word_emb = nn.Embedding(len(config.vocab), d, padding_idx=0)
        self.word_pos = nn.Embedding(config.max_words, d)
        self.type_emb = nn.Embedding(2, d)     # 0 text, 1 candidate
        layer = nn.TransformerEncoderLayer(d, config.n_heads, dim_feedforward=2 * d, dropout=0.0, batch_first=True)
        self.reasoner = nn.TransformerEncoder(layer, config.n_layers)
        self.counter = SoftCounter(d)
        n_count = 2 * 2 * 4 * 5   # below/above x filters x keys x RBF centres
        self.ref_head = nn.Sequential(nn.Linear(d + n_count, d), nn.ReLU(inplace=True), nn.Linear(d, 1))

    def for_inference(self) -> "TabletopGrounder":
        """An inference-only copy: each BatchNorm folded into its convolution and the convolutional part in
        channels-last memory. Why: on CPU, oneDNN's convolutions run on NHWC without reordering each
        layer's input and output, and a folded BatchNorm is one pass less: ground() at 1280x720 took 20.2 ms
        median against 22.9 ms for the plain model, A/B in one process on 2 threads (docs/models/tabletop.md).
        The outputs equal the model's own in eval mode up to float rounding (test_tabletop_inference). Not
        for training: the BatchNorm statistics are gone."""
        import copy

        from torch.nn.utils.fusion import fuse_conv_bn_eval

        fast = copy.deepcopy(self).eval()
        crop_blocks = list(fast.crop_net.net) if self.config.crop_size else []
        for block in list(fast.backbone.net) + [fast.det_head[0]] + crop_blocks:
            block[0] = fuse_conv_bn_eval(block[0], block[1])
            block[1] = nn.Identity()
        fast.backbone.to(memory_format=torch.channels_last)
        fast.det_head.to(memory_format=torch.channels_last)
        if self.config.crop_size:
            fast.crop_net.to(memory_format=torch.channels_last)
        return fast

    # -- stage 1 -------------------------------------------------------------------------------------
    def encode_image(self, images: torch.Tensor) -> Tuple[Tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
        """images (B,3,H,W) normalised -> features ((B,C,h,w) stride 8, (B,C',2h,2w) stride 4), passed
        as they are to `candidate_tokens`, and detection maps (B,5,h,w)."""
        if self.backbone.net[0][0].weight.is_contiguous(memory_format=torch.channels_last):   # `for_inference`
            images = images.contiguous(memory_format=torch.channels_last)
        feats, fine = self.backbone(images)
        return (feats, fine), self.det_head(feats)

    def candidate_tokens(self, features: Tuple[torch.Tensor, torch.Tensor], cells: torch.Tensor,
                         boxes: torch.Tensor, depth: Optional[torch.Tensor] = None,
                         crops: Optional[torch.Tensor] = None) -> torch.Tensor:
        """features from `encode_image`; cells (B,K,2) integer (x, y) stride-8 cells; boxes (B,K,4) normalised
        cx,cy,w,h; depth (B,K,DEPTH_FEATURES) from `processing.depth_features`, or None (no depth: zeros);
        crops (B,K,3,S,S) from `processing.box_crops` for a `crop_size` model (required there) -> (B,K,d)."""
        feats, fine = features
        b, c, h, w = feats.shape
        idx = (cells[..., 1] * w + cells[..., 0]).clamp(0, h * w - 1)                  # (B,K)
        flat = feats.flatten(2).transpose(1, 2)                                      # (B,hw,C)
        picked = torch.gather(flat, 1, idx.unsqueeze(-1).expand(-1, -1, c))          # (B,K,C)
        tokens = self.cand_proj(torch.cat([picked, box_features(boxes)], dim=-1))
        if self.config.roi_pool:
            tokens = tokens + self.roi_proj(roi_grid(fine, boxes, self.config.roi_pool))
        if self.config.deep_roi:
            tokens = tokens + self.deep_roi_proj(roi_grid(feats, boxes, self.config.deep_roi))
        if self.config.depth_tokens:
            if depth is None:
                depth = boxes.new_zeros(*boxes.shape[:2], DEPTH_FEATURES)
            tokens = tokens + self.depth_proj(depth.to(tokens.dtype))
        if self.config.crop_size:
            if crops is None:
                raise ValueError("this model reads a crop of each candidate (crop_size > 0): pass crops")
            flat = crops.reshape(-1, *crops.shape[-3:]).to(tokens.dtype)
            if self.crop_net.net[0][0].weight.is_contiguous(memory_format=torch.channels_last):
                flat = flat.contiguous(memory_format=torch.channels_last)
            tokens = tokens + self.crop_proj(self.crop_net(flat)).reshape(tokens.shape)
        return tokens

    def attributes(self, tokens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.attr_color(tokens), self.attr_shape(tokens), self.attr_size(tokens)

    def order_keys(self, cand: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """What candidates are ordered by: image x, box bottom (a depth proxy on a table seen from above),
        image area, and the predicted probability of the large size class (detached: a feature, not a target)."""
        size_large = torch.softmax(self.attr_size(cand), dim=-1)[..., 1:2].detach()
        bottom = boxes[..., 1:2] + boxes[..., 3:4] / 2
        area = (boxes[..., 2:3] * boxes[..., 3:4]).clamp(min=1e-6).sqrt()
        return torch.cat([boxes[..., 0:1], bottom, area, size_large], dim=-1)

    # -- stage 2 -------------------------------------------------------------------------------------
    def score(self, cand: torch.Tensor, cand_mask: torch.Tensor, words: torch.Tensor,
              boxes: torch.Tensor) -> torch.Tensor:
        """cand (P,K,d) candidate tokens per phrase (the same image's tokens repeated), cand_mask (P,K) True =
        real, words (P,L) ids, boxes (P,K,4) -> referent logits (P,K)."""
        p, length = words.shape
        pos = torch.arange(length, device=words.device)
        text = self.word_emb(words) + self.word_pos(pos)[None] + self.type_emb.weight[0]
        tokens = torch.cat([text, cand + self.type_emb.weight[1]], dim=1)
        pad = torch.cat([words == 0, ~cand_mask], dim=1)
        h = self.reasoner(tokens, src_key_padding_mask=pad)[:, length:]
        counts = self.counter(h, self.order_keys(cand, boxes), cand_mask.to(h.dtype))
        return self.ref_head(torch.cat([h, counts], dim=-1)).squeeze(-1)
