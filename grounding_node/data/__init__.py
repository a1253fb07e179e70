"""The dataset half of the product: the canonical format, validation, statistics, importers (COCO, ODVG,
Label Studio), the Label Studio exporter and recorded bags. Nothing here imports torch or rclpy, so the
node's capture service, the fine-tuning and a plain script can all use it. Format: docs/dataset.md."""

from grounding_node.data.format import ANNOTATIONS, Grounding, Sample, box_from_pixels, box_to_pixels
from grounding_node.data.stats import DatasetStats, dataset_stats
from grounding_node.data.validate import BadRecord, CheckResult, DatasetError, check_dataset, load_dataset
from grounding_node.data.writer import append_sample, camera_info_yaml, write_annotations, write_sample

__all__ = [
    "ANNOTATIONS", "BadRecord", "CheckResult", "DatasetError", "DatasetStats", "Grounding", "Sample",
    "append_sample", "box_from_pixels", "box_to_pixels", "camera_info_yaml", "check_dataset", "dataset_stats",
    "load_dataset", "write_annotations", "write_sample",
]
