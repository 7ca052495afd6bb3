/*
 * Intel 8254x (82540EM) register offsets and bits, from the "PCI/PCI-X Family of Gigabit
 * Ethernet Controllers Software Developer's Manual" (8254x SDM), chapter 13 (registers) and
 * chapter 3 (descriptors).  Offsets are in BAR0 (memory) space.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_NET_E1000_REGS_H
#define HW_NET_E1000_REGS_H

/* ---- general (SDM 13.4.1 - 13.4.8) ---- */
#define E1000_CTRL      0x00000
#define E1000_STATUS    0x00008
#define E1000_EECD      0x00010
#define E1000_EERD      0x00014
#define E1000_CTRL_EXT  0x00018
#define E1000_FLA       0x0001c
#define E1000_MDIC      0x00020
#define E1000_FCAL      0x00028
#define E1000_FCAH      0x0002c
#define E1000_FCT       0x00030
#define E1000_VET       0x00038
#define E1000_ICR       0x000c0
#define E1000_ITR       0x000c4
#define E1000_ICS       0x000c8
#define E1000_IMS       0x000d0
#define E1000_IMC       0x000d8
#define E1000_RCTL      0x00100
#define E1000_FCTTV     0x00170
#define E1000_TXCW      0x00178
#define E1000_RXCW      0x00180
#define E1000_TCTL      0x00400
#define E1000_TIPG      0x00410
#define E1000_AIT       0x00458
#define E1000_LEDCTL    0x00e00
#define E1000_PBA       0x01000
#define E1000_FCRTL     0x02160
#define E1000_FCRTH     0x02168
#define E1000_RDFH      0x02410
#define E1000_RDFT      0x02418
#define E1000_RDFHS     0x02420
#define E1000_RDFTS     0x02428
#define E1000_RDFPC     0x02430
#define E1000_RDBAL     0x02800
#define E1000_RDBAH     0x02804
#define E1000_RDLEN     0x02808
#define E1000_RDH       0x02810
#define E1000_RDT       0x02818
#define E1000_RDTR      0x02820
#define E1000_RXDCTL    0x02828
#define E1000_RADV      0x0282c
#define E1000_RSRPD     0x02c00
#define E1000_TXDMAC    0x03000
#define E1000_TDFH      0x03410
#define E1000_TDFT      0x03418
#define E1000_TDFHS     0x03420
#define E1000_TDFTS     0x03428
#define E1000_TDFPC     0x03430
#define E1000_TDBAL     0x03800
#define E1000_TDBAH     0x03804
#define E1000_TDLEN     0x03808
#define E1000_TDH       0x03810
#define E1000_TDT       0x03818
#define E1000_TIDV      0x03820
#define E1000_TXDCTL    0x03828
#define E1000_TADV      0x0382c
#define E1000_TSPMT     0x03830
#define E1000_RXCSUM    0x05000
#define E1000_MTA       0x05200     /* 128 dwords */
#define E1000_RA        0x05400     /* 16 pairs RAL/RAH */
#define E1000_VFTA      0x05600     /* 128 dwords */
#define E1000_WUC       0x05800
#define E1000_WUFC      0x05808
#define E1000_WUS       0x05810
#define E1000_MANC      0x05820
#define E1000_IPAV      0x05838
#define E1000_IP4AT     0x05840
#define E1000_IP6AT     0x05880
#define E1000_WUPL      0x05900
#define E1000_WUPM      0x05a00
#define E1000_FFLT      0x05f00
#define E1000_FFMT      0x09000
#define E1000_FFVT      0x09800

/* ---- statistics (SDM 13.7), all clear on read ---- */
#define E1000_STATS_FIRST 0x04000
#define E1000_STATS_LAST  0x040fc
#define E1000_CRCERRS   0x04000
#define E1000_MPC       0x04010
#define E1000_RLEC      0x04040
#define E1000_PRC64     0x0405c
#define E1000_PRC127    0x04060
#define E1000_PRC255    0x04064
#define E1000_PRC511    0x04068
#define E1000_PRC1023   0x0406c
#define E1000_PRC1522   0x04070
#define E1000_GPRC      0x04074
#define E1000_BPRC      0x04078
#define E1000_MPRC      0x0407c
#define E1000_GPTC      0x04080
#define E1000_GORCL     0x04088
#define E1000_GORCH     0x0408c
#define E1000_GOTCL     0x04090
#define E1000_GOTCH     0x04094
#define E1000_RNBC      0x040a0
#define E1000_RUC       0x040a4
#define E1000_ROC       0x040ac
#define E1000_TORL      0x040c0
#define E1000_TORH      0x040c4
#define E1000_TOTL      0x040c8
#define E1000_TOTH      0x040cc
#define E1000_TPR       0x040d0
#define E1000_TPT       0x040d4
#define E1000_PTC64     0x040d8
#define E1000_PTC127    0x040dc
#define E1000_PTC255    0x040e0
#define E1000_PTC511    0x040e4
#define E1000_PTC1023   0x040e8
#define E1000_PTC1522   0x040ec
#define E1000_MPTC      0x040f0
#define E1000_BPTC      0x040f4
#define E1000_TSCTC     0x040f8
#define E1000_TSCTFC    0x040fc

/* CTRL (13.4.1) */
#define E1000_CTRL_FD        0x00000001
#define E1000_CTRL_LRST      0x00000008
#define E1000_CTRL_ASDE      0x00000020
#define E1000_CTRL_SLU       0x00000040
#define E1000_CTRL_SPD_1000  0x00000200
#define E1000_CTRL_RST       0x04000000
#define E1000_CTRL_VME       0x40000000
#define E1000_CTRL_PHY_RST   0x80000000

/* STATUS (13.4.2) */
#define E1000_STATUS_FD         0x00000001
#define E1000_STATUS_LU         0x00000002
#define E1000_STATUS_SPEED_1000 0x00000080
#define E1000_STATUS_ASDV_1000  0x00000200

/* EECD (13.4.3): Microwire interface bits, request/grant, presence and size */
#define E1000_EECD_SK    0x00000001
#define E1000_EECD_CS    0x00000002
#define E1000_EECD_DI    0x00000004
#define E1000_EECD_DO    0x00000008
#define E1000_EECD_FWE   0x00000030
#define E1000_EECD_REQ   0x00000040
#define E1000_EECD_GNT   0x00000080
#define E1000_EECD_PRES  0x00000100
#define E1000_EECD_SIZE  0x00000200

/* EERD (13.4.4) */
#define E1000_EERD_START      0x00000001
#define E1000_EERD_DONE       0x00000010
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16

/* MDIC (13.4.6) */
#define E1000_MDIC_DATA_MASK  0x0000ffff
#define E1000_MDIC_REG_SHIFT  16
#define E1000_MDIC_PHY_SHIFT  21
#define E1000_MDIC_OP_WRITE   0x04000000
#define E1000_MDIC_OP_READ    0x08000000
#define E1000_MDIC_READY      0x10000000
#define E1000_MDIC_INT_EN     0x20000000
#define E1000_MDIC_ERROR      0x40000000

/* Interrupt causes: ICR/ICS/IMS/IMC (13.4.17 - 13.4.21) */
#define E1000_ICR_TXDW    0x00000001
#define E1000_ICR_TXQE    0x00000002
#define E1000_ICR_LSC     0x00000004
#define E1000_ICR_RXSEQ   0x00000008
#define E1000_ICR_RXDMT0  0x00000010
#define E1000_ICR_RXO     0x00000040
#define E1000_ICR_RXT0    0x00000080
#define E1000_ICR_MDAC    0x00000200
#define E1000_ICR_RXCFG   0x00000400
#define E1000_ICR_TXD_LOW 0x00008000
#define E1000_ICR_SRPD    0x00010000
#define E1000_ICR_VALID   0x0001f6df     /* causes the 82540EM implements */

/* RCTL (13.4.22) */
#define E1000_RCTL_EN        0x00000002
#define E1000_RCTL_SBP       0x00000004
#define E1000_RCTL_UPE       0x00000008
#define E1000_RCTL_MPE       0x00000010
#define E1000_RCTL_LPE       0x00000020
#define E1000_RCTL_RDMTS_SHIFT 8
#define E1000_RCTL_MO_SHIFT  12
#define E1000_RCTL_BAM       0x00008000
#define E1000_RCTL_BSIZE_SHIFT 16
#define E1000_RCTL_VFE       0x00040000
#define E1000_RCTL_BSEX      0x02000000
#define E1000_RCTL_SECRC     0x04000000

/* RDTR (13.4.30): flush partial descriptor block */
#define E1000_RDTR_FPD       0x80000000

/* RXCSUM (13.4.64) */
#define E1000_RXCSUM_PCSS    0x000000ff
#define E1000_RXCSUM_IPOFLD  0x00000100
#define E1000_RXCSUM_TUOFLD  0x00000200

/* RAH (13.4.66) */
#define E1000_RAH_AV         0x80000000

/* TCTL (13.4.33) */
#define E1000_TCTL_EN        0x00000002
#define E1000_TCTL_PSP       0x00000008

/* Receive descriptor (3.2.3): status and error bytes */
#define E1000_RXD_STAT_DD    0x01
#define E1000_RXD_STAT_EOP   0x02
#define E1000_RXD_STAT_IXSM  0x04
#define E1000_RXD_STAT_VP    0x08
#define E1000_RXD_STAT_TCPCS 0x20
#define E1000_RXD_STAT_IPCS  0x40
#define E1000_RXD_ERR_TCPE   0x20
#define E1000_RXD_ERR_IPE    0x40

/* Transmit descriptors (3.3): command byte (legacy CMD, extended DCMD/TUCMD) */
#define E1000_TXD_CMD_EOP    0x01
#define E1000_TXD_CMD_IFCS   0x02
#define E1000_TXD_CMD_IC     0x04     /* legacy: insert checksum */
#define E1000_TXD_CMD_TSE    0x04     /* extended: TCP segmentation enable */
#define E1000_TXD_CMD_RS     0x08
#define E1000_TXD_CMD_RPS    0x10
#define E1000_TXD_CMD_DEXT   0x20
#define E1000_TXD_CMD_VLE    0x40
#define E1000_TXD_CMD_IDE    0x80
#define E1000_TXD_STAT_DD    0x01
#define E1000_TXD_DTYP_CTX   0x0
#define E1000_TXD_DTYP_DATA  0x1
/* Context TUCMD */
#define E1000_TXD_TUCMD_TCP  0x01
#define E1000_TXD_TUCMD_IP   0x02
/* Data descriptor POPTS */
#define E1000_TXD_POPTS_IXSM 0x01
#define E1000_TXD_POPTS_TXSM 0x02

/* PHY registers (M88E1011 internal PHY, 8254x SDM 13.5) */
#define PHY_CTRL             0x00
#define PHY_STATUS           0x01
#define PHY_ID1              0x02
#define PHY_ID2              0x03
#define PHY_AUTONEG_ADV      0x04
#define PHY_LP_ABILITY       0x05
#define PHY_AUTONEG_EXP      0x06
#define PHY_NEXT_PAGE_TX     0x07
#define PHY_LP_NEXT_PAGE     0x08
#define PHY_1000T_CTRL       0x09
#define PHY_1000T_STATUS     0x0a
#define PHY_EXT_STATUS       0x0f
#define M88_PHY_SPEC_CTRL    0x10
#define M88_PHY_SPEC_STATUS  0x11
#define M88_INT_ENABLE       0x12
#define M88_INT_STATUS       0x13
#define M88_EXT_PHY_SPEC_CTRL 0x14
#define M88_RX_ERR_CNTR      0x15
#define M88_LED_CTRL         0x18
#define M88_PHY_PAGE_SELECT  0x1d
#define M88_PHY_GEN_CONTROL  0x1e

#define MII_CR_RESET         0x8000
#define MII_CR_AUTO_NEG_EN   0x1000
#define MII_CR_RESTART_AUTO_NEG 0x0200
#define MII_SR_LINK_STATUS   0x0004
#define MII_SR_AUTONEG_COMPLETE 0x0020
#define M88_PSSR_LINK        0x0400

#endif
