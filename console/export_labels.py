"""Column headers and stored values of the spreadsheet exports, in the
reader's language: a Chinese reader gets Chinese headers and words; an
English one keeps the machine column names other systems import by."""

from . import vocabulary
from .i18n import language_code

SETTLEMENT_COLUMNS_ZH = {
    "settlement_id": "和解编号",
    "complainant_id": "投诉人编号",
    "name": "姓名",
    "group": "分组",
    "province_code": "省份代码",
    "branch_code": "网点代码",
    "status": "状态",
    "accepted_on": "接受日期",
    "tier": "档位",
    "principal": "本金（元）",
    "interest": "利息（元）",
    "expenses": "费用（元）",
    "expenses_evidence": "费用凭证",
    "lawyer_fees": "律师费（元）",
    "indirect_loss": "间接损失（元）",
    "tier_award": "档位奖励（元）",
    "total": "合计（元）",
    "differs_from_terms": "偏离标准方案",
    "override_reason": "偏离理由",
    "finalised_at": "办结时间",
    "followup_due_at": "回访到期",
    "agreement_signed_on": "保密协议签署日期",
    "liquidated_damages": "违约金（元）",
    "damages_warning": "违约金过高提示",
    "clause_version": "条款版本",
    "document_sha256": "文件 SHA-256",
    "witness_reference": "见证记录",
    "breaches": "违约次数",
}


def settlement_register(columns, rows):
    """(header, values) of the settlements register for the reader's language."""
    if language_code() != "zh_CN":
        return list(columns), [[r[k] for k in columns] for r in rows]
    header = [SETTLEMENT_COLUMNS_ZH.get(k, k) for k in columns]
    values = [[vocabulary.zh(vocabulary.SETTLEMENT_STATUSES, r[k]) if k == "status" else r[k] for k in columns] for r in rows]
    return header, values
